package io.conea.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs every benchmark of the suite once, briefly and in this JVM, so that a benchmark that throws,
 * or whose tear-down finds it measured nothing (no request counted, no span exported, no line
 * written), fails the build long before anyone reads its figures.
 */
class BenchmarkSmokeTest {

  private static final String SUITE = "io\\.conea\\.benchmarks\\..*";

  @Test
  void everyBenchmarkRunsOnceWithoutErrorAndChecksItsOwnOutput() throws RunnerException {
    Set<String> declared =
        BenchmarkList.defaultList()
            .find(
                OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT),
                java.util.List.of(SUITE),
                java.util.List.of())
            .stream()
            .map(BenchmarkListEntry::getUsername)
            .collect(Collectors.toSet());
    assertThat(declared)
        .contains(
            "io.conea.benchmarks.BaselineBenchmark.baseline",
            "io.conea.benchmarks.HttpRecordBenchmark.conea",
            "io.conea.benchmarks.HttpRecordTwoThreadsBenchmark.conea",
            "io.conea.benchmarks.ServletFilterBenchmark.coneaUnsampled",
            "io.conea.benchmarks.ServletFilterBenchmark.openTelemetryUnsampled",
            "io.conea.benchmarks.NettyHandlerBenchmark.coneaSampled",
            "io.conea.benchmarks.LogEncodingBenchmark.conea",
            "io.conea.benchmarks.LogEncodingBenchmark.logstash",
            "io.conea.benchmarks.AiCallBenchmark.coneaAnnotation",
            "io.conea.benchmarks.AiCallBenchmark.coneaProgrammatic");

    Options options =
        new OptionsBuilder()
            .include(SUITE)
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(50))
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT)
            .build();
    Collection<RunResult> results = new Runner(options).run();

    Set<String> ran =
        results.stream().map(r -> r.getParams().getBenchmark()).collect(Collectors.toSet());
    assertThat(ran).containsExactlyInAnyOrderElementsOf(declared);
    for (RunResult result : results) {
      double score = result.getPrimaryResult().getScore();
      assertThat(score)
          .as("average time of %s", result.getParams().getBenchmark())
          .isPositive()
          .isFinite();
    }
  }
}
