package io.conea.benchmarks;

import io.conea.ai.AiCalls;
import io.conea.ai.AiModelCall;
import io.conea.ai.AiModelCallAspect;
import io.conea.ai.AiPricing;
import io.conea.ai.AiUsage;
import io.conea.metrics.AiCallOutcome;
import io.conea.metrics.AiMetrics;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Recording one AI model call (requests, processing time, tokens, cost) around a model client that
 * answers at once, so that what is measured is the recording alone.
 *
 * <p>{@code coneaAnnotation} calls a method annotated {@link AiModelCall}, woven at build time by
 * the AspectJ compiler with conea-ai as the aspect library (see this module's pom), as a service
 * without Spring weaves it. {@code coneaProgrammatic} wraps the same call in {@link AiCalls#call}.
 * {@code coneaAiMetrics} hands the call's figures to {@link AiMetrics#record} directly, the meters
 * alone; {@code unrecorded} is the client call without any of it. Neither recorder traces (no
 * OpenTelemetry given).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AiCallBenchmark {

  /** A model client whose reply is ready-made: the call itself costs next to nothing. */
  public static class ChatClient {
    static final Reply REPLY = new Reply("Observability, calm and clear", 1000, 250);

    /** The call, recorded by the woven aspect. */
    @AiModelCall(provider = "openai", model = "gpt-4")
    public Reply chat(String prompt) {
      return REPLY;
    }

    /** The same call, not annotated. */
    public Reply chatUnrecorded(String prompt) {
      return REPLY;
    }
  }

  /** A reply that reports its tokens, as the annotation's documentation shows. */
  public record Reply(String text, long inputTokens, long outputTokens) implements AiUsage {}

  /** The client and its prompt. */
  @State(Scope.Benchmark)
  public static class Client {
    final ChatClient client = new ChatClient();
    final String prompt = "Write a haiku about observability.";
  }

  /** The meters and the recorder, installed in the woven aspect. */
  @State(Scope.Benchmark)
  public static class Recording extends Client {
    PrometheusMetrics prometheus;
    ConeaMetrics metrics;
    AiCalls calls;

    @Setup(Level.Trial)
    public void setUp() {
      prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
      metrics = ConeaMetrics.builder(prometheus.registry()).build();
      calls = AiCalls.builder(metrics).pricing(AiPricing.defaults()).build();
      AiModelCallAspect.install(calls);
    }

    /** Fails unless conea counted the calls, which it does not if weaving did not happen. */
    @TearDown(Level.Trial)
    public void tearDown() {
      try {
        double counted =
            metrics.registry().find("ai.model.requests").counters().stream()
                .mapToDouble(Counter::count)
                .sum();
        Checks.check(counted > 0, "conea counted no AI call");
      } finally {
        metrics.close();
        prometheus.close();
      }
    }
  }

  /** The client call alone, unrecorded. */
  @Benchmark
  public Reply unrecorded(Client state) {
    return state.client.chatUnrecorded(state.prompt);
  }

  /** The annotated call, recorded by the woven aspect. */
  @Benchmark
  public Reply coneaAnnotation(Recording state) {
    return state.client.chat(state.prompt);
  }

  /** The call wrapped in the programmatic recorder. */
  @Benchmark
  public Reply coneaProgrammatic(Recording state) {
    // The annotated method is called inside: record only once, through the recorder's own call.
    return state.calls.call("openai", "gpt-4", () -> state.client.chatUnrecorded(state.prompt));
  }

  /** The call's figures handed to the meters directly, as code that times calls itself would. */
  @Benchmark
  public Reply coneaAiMetrics(Recording state) {
    long start = System.nanoTime();
    Reply reply = state.client.chatUnrecorded(state.prompt);
    long input = reply.inputTokens();
    long output = reply.outputTokens();
    state
        .metrics
        .ai()
        .record(
            AiCallOutcome.success(
                "openai",
                "gpt-4",
                System.nanoTime() - start,
                input,
                output,
                (input * 0.03 + output * 0.06) / 1000));
    return reply;
  }
}
