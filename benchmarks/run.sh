#!/usr/bin/env bash
# Runs the JMH suite and writes benchmarks/RESULTS.md.
#
#   benchmarks/run.sh                  # the whole suite, about 8 minutes on 2 cores
#   benchmarks/run.sh LogEncoding      # only benchmarks matching a regular expression
#
# Arguments are handed to JMH after the defaults below (fork 1, warmup 3 x 1 s, measurement
# 8 x 1 s, GC profiler), so a benchmark pattern or further JMH options can be given.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
jar="$here/target/benchmarks.jar"
json="$here/target/results.json"

# Build when the jar is missing or older than the sources it is made of.
if [[ ! -f "$jar" ]] || [[ -n "$(find "$root/pom.xml" "$root"/conea-*/pom.xml "$here/pom.xml" \
    "$root"/conea-*/src/main "$here/src/main" -newer "$jar" -print -quit)" ]]; then
  (cd "$root" && mvn -B -q -pl benchmarks -am package -DskipTests)
fi

java -jar "$jar" -f 1 -wi 3 -w 1s -i 8 -r 1s -prof gc -rf json -rff "$json" "$@"
java -Dnproc="$(nproc)" -cp "$jar" io.conea.benchmarks.ResultsReport \
  "$json" "$here/RESULTS.md" "$here/analysis.md"
