package io.conea.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Fails the build when conea's two hottest paths allocate more than their budget at steady state,
 * as JMH's GC profiler measures it in a forked, warmed-up JVM.
 *
 * <p>Budgets, from measurements on the reference machine (see {@code benchmarks/README.md}):
 *
 * <ul>
 *   <li>recording an HTTP request: {@value #HTTP_RECORD_BUDGET} B/op. It measures 0; the margin
 *       absorbs JMH's own fractional bookkeeping, while one allocated object per request (16 bytes
 *       at least) already fails.
 *   <li>encoding the guide's example event: the returned line itself (a byte array: its length plus
 *       a 16-byte header, rounded up to 8) plus {@value #LOG_ENCODE_SLACK} bytes.
 * </ul>
 */
class AllocationBudgetTest {

  static final double HTTP_RECORD_BUDGET = 16;
  static final int LOG_ENCODE_SLACK = 64;

  private static Map<String, Double> allocation;

  @BeforeAll
  static void measure() throws RunnerException {
    Options options =
        new OptionsBuilder()
            .include("io\\.conea\\.benchmarks\\.HttpRecordBenchmark\\.conea$")
            .include("io\\.conea\\.benchmarks\\.LogEncodingBenchmark\\.conea$")
            .forks(1)
            .warmupIterations(3)
            .warmupTime(TimeValue.seconds(1))
            .measurementIterations(3)
            .measurementTime(TimeValue.seconds(1))
            .addProfiler(GCProfiler.class)
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT)
            .build();
    Collection<RunResult> results = new Runner(options).run();
    allocation =
        results.stream()
            .collect(
                Collectors.toMap(
                    r -> r.getParams().getBenchmark(),
                    r -> r.getSecondaryResults().get(ResultsReport.ALLOCATION).getScore()));
  }

  @Test
  void recordingAnHttpRequestAllocatesNothing() {
    assertThat(allocation.get("io.conea.benchmarks.HttpRecordBenchmark.conea"))
        .as("bytes allocated per HttpServerMetrics.record, budget %s", HTTP_RECORD_BUDGET)
        .isNotNull()
        .isLessThanOrEqualTo(HTTP_RECORD_BUDGET);
  }

  @Test
  void encodingALogEventAllocatesLittleMoreThanTheLineItReturns() {
    int line = LogEncodingBenchmark.sampleLines().get("conea").length;
    long array = (16 + line + 7) / 8 * 8;
    assertThat(allocation.get("io.conea.benchmarks.LogEncodingBenchmark.conea"))
        .as("bytes allocated per encoded %d-byte line, budget %d", line, array + LOG_ENCODE_SLACK)
        .isNotNull()
        .isLessThanOrEqualTo(array + LOG_ENCODE_SLACK);
  }
}
