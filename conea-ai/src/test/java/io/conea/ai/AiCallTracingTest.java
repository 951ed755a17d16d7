package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;

/** The spans of AI calls, as the OpenTelemetry SDK exports them. */
class AiCallTracingTest {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk openTelemetry =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                  .build())
          .build();
  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();
  private final ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
  private final AiCalls recorder = AiCalls.create(metrics, AiPricing.defaults(), openTelemetry);

  @AfterEach
  void close() {
    openTelemetry.close();
    prometheus.close();
  }

  record Reply(long inputTokens, long outputTokens, String model) implements AiUsage {}

  static class EmbeddingClient {
    @AiModelCall(operation = "embeddings", provider = "openai", model = "text-embedding-3-small")
    public Reply embed(String text) {
      return new Reply(8, 0, "text-embedding-3-small");
    }
  }

  private SpanData onlySpan() {
    List<SpanData> spans = exporter.getFinishedSpanItems();
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  @Test
  void aCallIsAClientSpanNamedAndDescribedByTheGenAiConventions() {
    Span server = openTelemetry.getTracer("test").spanBuilder("POST /api/v1/ai/chat").startSpan();
    Span[] inside = new Span[1];
    Context.current()
        .with(server)
        .wrap(
            (Runnable)
                () ->
                    recorder.call(
                        "openai",
                        "gpt-4",
                        () -> {
                          inside[0] = Span.current();
                          return new Reply(1250, 0, "gpt-4-0613");
                        }))
        .run();
    server.end();

    SpanData span =
        exporter.getFinishedSpanItems().stream()
            .filter(s -> s.getKind() == SpanKind.CLIENT)
            .findFirst()
            .orElseThrow();
    assertThat(span.getName()).isEqualTo("chat gpt-4");
    assertThat(span.getInstrumentationScopeInfo().getName()).isEqualTo("io.conea.ai");
    assertThat(span.getParentSpanId()).isEqualTo(server.getSpanContext().getSpanId());
    assertThat(span.getTraceId()).isEqualTo(server.getSpanContext().getTraceId());
    assertThat(inside[0].getSpanContext())
        .as("current inside the call")
        .isEqualTo(span.getSpanContext());
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.getAttributes().asMap())
        .containsEntry(AttributeKey.stringKey("gen_ai.operation.name"), "chat")
        .containsEntry(AttributeKey.stringKey("gen_ai.provider.name"), "openai")
        .containsEntry(AttributeKey.stringKey("gen_ai.request.model"), "gpt-4")
        .containsEntry(AttributeKey.stringKey("gen_ai.response.model"), "gpt-4-0613")
        .containsEntry(AttributeKey.longKey("gen_ai.usage.input_tokens"), 1250L)
        .containsEntry(AttributeKey.longKey("gen_ai.usage.output_tokens"), 0L)
        .containsEntry(AttributeKey.doubleKey("conea.ai.cost_usd"), 0.0375)
        .doesNotContainKey(AttributeKey.stringKey("error.type"));
  }

  @Test
  void aFailedCallHasErrorStatusTypeAndException() {
    SocketTimeoutException timeout = new SocketTimeoutException("read timed out");

    assertThatThrownBy(
            () ->
                recorder.callChecked(
                    "openai",
                    "gpt-4",
                    () -> {
                      throw timeout;
                    }))
        .isSameAs(timeout);

    SpanData span = onlySpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("java.net.SocketTimeoutException");
    assertThat(span.getEvents()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("exception"));
    assertThat(span.getAttributes().get(AttributeKey.longKey("gen_ai.usage.input_tokens")))
        .as("no usage known")
        .isNull();
  }

  @Test
  void anAsyncCallsSpanEndsWhenTheFutureCompletes() {
    CompletableFuture<Reply> future = new CompletableFuture<>();

    recorder.call("openai", "gpt-4o", () -> future);

    assertThat(exporter.getFinishedSpanItems()).isEmpty();
    future.complete(new Reply(1000, 1000, "gpt-4o"));
    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("chat gpt-4o");
    assertThat(span.getAttributes().get(AttributeKey.doubleKey("conea.ai.cost_usd")))
        .isEqualTo(0.0125);
  }

  @Test
  void aModelGivenAtRunTimeRenamesTheSpan() {
    try (AiCall call = recorder.start("anthropic", "unknown-yet")) {
      call.model("claude-3-haiku").usage(10, 10);
    }

    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("chat claude-3-haiku");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model")))
        .isEqualTo("claude-3-haiku");
  }

  @Test
  void anUnpricedModelHasNoCostAttribute() {
    recorder.call("acme", "acme-llm", () -> new Reply(10, 10, "acme-llm"));

    assertThat(onlySpan().getAttributes().get(AttributeKey.doubleKey("conea.ai.cost_usd")))
        .isNull();
  }

  @Test
  void theAnnotationsOperationNamesTheSpan() {
    AspectJProxyFactory factory = new AspectJProxyFactory(new EmbeddingClient());
    factory.addAspect(new AiModelCallAspect(recorder));
    EmbeddingClient client = factory.getProxy();

    client.embed("text");

    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("embeddings text-embedding-3-small");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("gen_ai.operation.name")))
        .isEqualTo("embeddings");
  }

  @Test
  void overLongNamesAreCutOnTheSpan() {
    String model = "m".repeat(1000);
    recorder.call("p", model, () -> null);

    assertThat(onlySpan().getAttributes().get(AttributeKey.stringKey("gen_ai.request.model")))
        .hasSize(AiCalls.MAX_NAME_LENGTH);
  }

  @Test
  void withoutOpenTelemetryThereIsNoSpan() {
    AiCalls untraced = AiCalls.builder(metrics).build();
    Span server = openTelemetry.getTracer("test").spanBuilder("server").startSpan();
    Span[] inside = new Span[1];
    Context.current()
        .with(server)
        .wrap(
            (Runnable)
                () ->
                    untraced.call(
                        "openai",
                        "gpt-4",
                        () -> {
                          inside[0] = Span.current();
                          return null;
                        }))
        .run();
    server.end();

    assertThat(inside[0]).isSameAs(server);
    assertThat(exporter.getFinishedSpanItems())
        .extracting(SpanData::getName)
        .containsExactly("server");
  }
}
