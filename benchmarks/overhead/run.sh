#!/usr/bin/env bash
# End-to-end overhead: the same Jetty service run without instrumentation, with conea, with the
# OpenTelemetry Java agent and with Micrometer's observation filter, each driven by wrk on
# loopback; writes the "End-to-end overhead" section of benchmarks/RESULTS.md and
# benchmarks/overhead/overhead.png.
#
#   benchmarks/overhead/run.sh                        # 3 rounds, 30 s warm-up, 15 s measured
#   ROUNDS=1 WARMUP=1 DURATION=2 benchmarks/overhead/run.sh     # a quick try
#
# Settings (environment):
#   ROUNDS (3), WARMUP and DURATION in seconds (30, 15), THREADS and CONNECTIONS of wrk (2, 32).
#     The warm-up is long enough for the JIT compilers to settle on 2 cores under load (measured
#     with the compiler threads' CPU time, reported per run), so that the measured run is steady
#     state; its throughput is reported too, as the cost of the first seconds.
#   VARIANTS ("none conea agent micrometer")
#   JAVA_OPTS for every service JVM ("-Xms256m -Xmx256m": a fixed heap, so that RSS differs by
#     what a variant adds rather than by when G1 chose to grow the heap)
#   PORT_BASE (18080: the service, +1 its allocation probe, +2 the agent's Prometheus exporter,
#     +3 the OTLP sink)
#   RESULTS (benchmarks/RESULTS.md), ANALYSIS (benchmarks/overhead/analysis.md, appended to the
#     section when it exists)
# Progress goes to stderr; the measurements stay in benchmarks/overhead/target/run/.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="$here/target"
work="$target/run"

ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-30}"
DURATION="${DURATION:-15}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
VARIANTS="${VARIANTS:-none conea agent micrometer}"
JAVA_OPTS="${JAVA_OPTS:--Xms256m -Xmx256m}"
PORT_BASE="${PORT_BASE:-18080}"
RESULTS="${RESULTS:-$root/benchmarks/RESULTS.md}"
ANALYSIS="${ANALYSIS:-$here/analysis.md}"
port=$PORT_BASE
probe_port=$((PORT_BASE + 1))
prometheus_port=$((PORT_BASE + 2))
sink_port=$((PORT_BASE + 3))

log() { printf '%s\n' "$*" >&2; }

# Build when the class path is missing or older than the sources it is made of.
jar="$target/conea-overhead-benchmark-0.1.0-SNAPSHOT.jar"
agent="$target/agent/opentelemetry-javaagent.jar"
if [[ ! -f "$jar" || ! -f "$agent" || ! -d "$target/lib" ]] || [[ -n "$(find "$root/pom.xml" \
    "$root"/conea-*/pom.xml "$here/pom.xml" "$root"/conea-*/src/main "$here/src/main" \
    -newer "$jar" -print -quit)" ]]; then
  log "building benchmarks/overhead"
  (cd "$root" && mvn -B -q -pl benchmarks/overhead -am package -DskipTests -Poverhead-run) 1>&2
fi
classpath="$jar:$target/lib/*"

rm -rf "$work"
mkdir -p "$work"
lua="$work/users.lua"
cat >"$lua" <<'EOF'
-- Ids 1..1000, so that only the route template keeps the endpoint label bounded.
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/v1/users/" .. (counter % 1000 + 1))
end
EOF

# A file descriptor that never has data: `read -t` on it sleeps without starting a process.
mkfifo "$work/nap"
exec {nap}<>"$work/nap"
nap() { read -r -t "$1" -u "$nap" _ || true; }

micros() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t))"; }

# 0 when something listens on 127.0.0.1:$1.
listening() {
  local fd
  { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  exec {fd}>&-
}

# 0 when GET 127.0.0.1:$1$2 answers 200; no process started.
answers_200() {
  local line="" http
  { exec {http}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&"$http" || true
  IFS= read -r line <&"$http" || true
  exec {http}>&-
  [[ "$line" == "HTTP/1.1 200"* ]]
}

# The service's total allocated heap bytes, from its probe socket.
allocated() {
  local line="" fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$probe_port"
  IFS= read -r line <&"$fd"
  exec {fd}>&-
  echo "$line"
}

# The CPU time (user and system, all threads) the process used so far, in clock ticks.
clock_ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU ticks of the JIT compiler threads (C1 and C2 CompilerThread<n>).
jit_ticks() {
  local task sum=0 comm
  for task in /proc/"$1"/task/*; do
    comm="$(cat "$task/comm" 2>/dev/null)" || continue
    if [[ "$comm" == C[12]\ Compi* || "$comm" == C[12]_* ]]; then
      sum=$((sum + $(awk '{ print $14 + $15 }' "$task/stat" 2>/dev/null || echo 0)))
    fi
  done
  echo "$sum"
}

sink_posts() { curl -fsS "http://127.0.0.1:$sink_port/stats" | cut -d' ' -f1; }

# Warns when a variant did not do the work it is measured for.
check() {
  local variant="$1" count="$2" exports="$3"
  if [[ "$variant" != none && "$count" == "-" ]]; then
    log "warning: $variant's metrics did not count the route's requests"
  fi
  if [[ ("$variant" == conea || "$variant" == agent) && "$exports" -eq 0 ]]; then
    log "warning: $variant exported no spans during the measured run"
  fi
}

service_pid=""
sink_pid=""
stop() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    nap 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$service_pid"
  stop "$sink_pid"
}
trap cleanup EXIT

for p in "$port" "$probe_port" "$prometheus_port" "$sink_port"; do
  if listening "$p"; then
    log "port $p is in use; set PORT_BASE"
    exit 1
  fi
done

java -Xmx128m -cp "$classpath" io.conea.benchmarks.overhead.OtlpSink "$sink_port" \
  >"$work/sink.log" 2>&1 &
sink_pid=$!
until answers_200 "$sink_port" /stats; do nap 0.05; done

variant_options() {
  case "$1" in
    conea)
      echo "-Dotel.exporter.otlp.endpoint=http://127.0.0.1:$sink_port"
      ;;
    agent)
      echo "-javaagent:$agent -Dotel.service.name=overhead-service" \
        "-Dotel.traces.exporter=otlp -Dotel.exporter.otlp.protocol=http/protobuf" \
        "-Dotel.exporter.otlp.endpoint=http://127.0.0.1:$sink_port" \
        "-Dotel.traces.sampler=parentbased_traceidratio -Dotel.traces.sampler.arg=0.1" \
        "-Dotel.metrics.exporter=prometheus -Dotel.exporter.prometheus.host=127.0.0.1" \
        "-Dotel.exporter.prometheus.port=$prometheus_port -Dotel.logs.exporter=none"
      ;;
  esac
}

# The requests of the route that the variant's own metrics counted.
counted() {
  local url="http://127.0.0.1:$port/metrics" name
  case "$1" in
    conea) name=http_requests_total ;;
    micrometer) name=http_server_requests_seconds_count ;;
    agent)
      url="http://127.0.0.1:$prometheus_port/metrics"
      name=http_server_request_duration_seconds_count
      ;;
    *) echo "-"; return ;;
  esac
  { curl -fsS "$url" || true; } | awk -v name="$name" \
    'index($0, name "{") == 1 && index($0, "/api/v1/users/") { sum += $NF; n++ }
     END { if (n) printf "%.0f\n", sum; else print "-" }'
}

# Milliseconds from a wrk latency figure (12.3us, 4.5ms, 1.2s).
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /m$/) { sub(/m$/, "", v); print v * 60000 }
    else { sub(/s$/, "", v); print v * 1000 } }'
}

results="$work/results.tsv"
printf '%s\t' round variant startup_ms rps p50_ms p99_ms rss_mib alloc_mb_s cpu_us_request \
  requests errors exports counted warmup_rps jit_ms >"$results"
printf 'load1\n' >>"$results"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
read -r -a variants <<<"$VARIANTS"

for round in $(seq "$ROUNDS"); do
  # The order rotates each round, so that no variant always runs first or last.
  shift_by=$(((round - 1) % ${#variants[@]}))
  order=("${variants[@]:shift_by}" "${variants[@]:0:shift_by}")
  for variant in "${order[@]}"; do
    # shellcheck disable=SC2046
    start=$(micros)
    java $JAVA_OPTS $(variant_options "$variant") -cp "$classpath" \
      io.conea.benchmarks.overhead.OverheadService "$variant" "$port" "$probe_port" \
      >"$work/$variant-$round.log" 2>&1 &
    service_pid=$!
    until answers_200 "$port" /api/v1/users/1; do
      if ! kill -0 "$service_pid" 2>/dev/null; then
        log "$variant did not start:"
        cat "$work/$variant-$round.log" >&2
        exit 1
      fi
      nap 0.002
    done
    startup_ms=$(((($(micros) - start) + 500) / 1000))

    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$lua" "http://127.0.0.1:$port" \
      >"$work/$variant-$round.warmup.wrk"
    warmup_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$variant-$round.warmup.wrk")

    load1="$(cut -d' ' -f1 /proc/loadavg)"
    exports_before=$(sink_posts)
    allocated_before=$(allocated)
    cpu_before=$(cpu_ticks "$service_pid")
    jit_before=$(jit_ticks "$service_pid")
    measured_start=$(micros)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$lua" \
      "http://127.0.0.1:$port" >"$work/$variant-$round.wrk"
    cpu_after=$(cpu_ticks "$service_pid")
    jit_after=$(jit_ticks "$service_pid")
    allocated_after=$(allocated)
    measured_us=$(($(micros) - measured_start))
    exports_after=$(sink_posts)
    rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$service_pid/status")
    count=$(counted "$variant")
    stop "$service_pid"
    service_pid=""

    out="$work/$variant-$round.wrk"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    requests=$(awk '/requests in/ { print $1 }' "$out")
    errors=$(awk '/Socket errors:/ { gsub(",", ""); s += $4 + $6 + $8 + $10 }
      /Non-2xx or 3xx responses:/ { s += $NF } END { print s + 0 }' "$out")
    alloc_mb_s=$(awk -v b="$((allocated_after - allocated_before))" -v us="$measured_us" \
      'BEGIN { printf "%.1f", b / us }')
    cpu_us_request=$(awk -v t="$((cpu_after - cpu_before))" -v hz="$clock_ticks" -v n="$requests" \
      'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    rss_mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
    exports=$((exports_after - exports_before))
    printf '%s\t' "$round" "$variant" "$startup_ms" "$rps" "$p50" "$p99" "$rss_mib" \
      "$alloc_mb_s" "$cpu_us_request" "$requests" "$errors" "$exports" "$count" "$warmup_rps" \
      "$(((jit_after - jit_before) * 1000 / clock_ticks))" >>"$results"
    printf '%s\n' "$load1" >>"$results"
    check "$variant" "$count" "$exports"
    log "round $round $variant: start-up ${startup_ms} ms, ${rps} req/s, p50 ${p50} ms," \
      "p99 ${p99} ms, RSS ${rss_mib} MiB, ${alloc_mb_s} MB/s allocated," \
      "${cpu_us_request} us CPU/request, ${exports} exports, counted ${count}," \
      "warm-up ${warmup_rps} req/s, JIT $(((jit_after - jit_before) * 1000 / clock_ticks)) ms," \
      "errors ${errors}, load ${load1}"
  done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

stop "$sink_pid"
sink_pid=""

machine="$work/machine.properties"
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "nproc=$(nproc)"
  echo "memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os=$(uname -sr) $(uname -m)"
  echo "jdk=$(java -version 2>&1 | sed -n 3p)"
  echo "jvm_options=\`$JAVA_OPTS\`, the same for every variant"
  echo "wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2): \`-t$THREADS -c$CONNECTIONS\`, ${WARMUP} s warm-up, ${DURATION} s measured"
  echo "load=\`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` after a ${WARMUP} s warm-up"
  echo "rounds=$ROUNDS"
  echo "loadavg_start=$load_start (1, 5, 15 min)"
  echo "loadavg_end=$load_end (1, 5, 15 min)"
  echo "agent=$(sed -n 's:.*<opentelemetry-javaagent.version>\(.*\)</.*:\1:p' "$here/pom.xml")"
} >"$machine"

java -Djava.awt.headless=true -cp "$classpath" io.conea.benchmarks.overhead.OverheadReport \
  "$results" "$machine" "$RESULTS" "$here/overhead.png" "$ANALYSIS"
log "wrote $RESULTS and $here/overhead.png (measurements in $results)"
