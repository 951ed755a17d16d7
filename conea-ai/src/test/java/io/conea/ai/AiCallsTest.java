package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conea.metrics.AiCallOutcome;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class AiCallsTest {

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();
  private final ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
  private final AiCalls recorder = AiCalls.builder(metrics).build();
  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void close() {
    executor.shutdownNow();
    prometheus.close();
    MDC.clear();
  }

  /** A model's answer as a service would model it. */
  record Reply(String text, long inputTokens, long outputTokens) implements AiUsage {}

  /** A provider SDK's response, which cannot implement AiUsage. */
  static final class SdkResponse {
    final int promptTokens;
    final int completionTokens;

    SdkResponse(int promptTokens, int completionTokens) {
      this.promptTokens = promptTokens;
      this.completionTokens = completionTokens;
    }
  }

  @Test
  void aSuccessfulCallIsCountedTimedAndPricedFromItsResult() {
    Reply reply = new Reply("hi", 1000, 250);

    Reply returned = recorder.call("openai", "gpt-4", () -> reply);

    assertThat(returned).isSameAs(reply);
    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .isEqualTo(1);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "error"))
        .isEqualTo(0);
    assertThat(
            scraped.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "input"))
        .isEqualTo(1000);
    assertThat(
            scraped.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "output"))
        .isEqualTo(250);
    // 1,000 x 0.03 + 250 x 0.06 per 1,000 tokens.
    assertThat(scraped.value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.045);
    assertThat(
            scraped.value(
                "ai_processing_duration_seconds_count", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(1);
    assertThat(scraped.sum("ai_model_errors_total")).isZero();
  }

  @Test
  void theGuidesExampleCallIsRecordedAt0_0375Usd() {
    recorder.call("openai", "gpt-4", () -> new Reply("", 1250, 0));

    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
  }

  @Test
  void summingTokensByModelGivesTheRealTotal() {
    recorder.call("openai", "gpt-4", () -> new Reply("", 1000, 250));
    recorder.call("openai", "gpt-4o", () -> new Reply("", 7, 3));

    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.labelValues("ai_tokens_total", "type"))
        .containsExactlyInAnyOrder("input", "output");
    double gpt4 =
        scraped.named("ai_tokens_total").stream()
            .filter(s -> s.labels().get("model").equals("gpt-4"))
            .mapToDouble(Scraped.Sample::value)
            .sum();
    assertThat(gpt4).isEqualTo(1250);
  }

  @Test
  void aFailedCallIsRecordedAndTheSameExceptionRethrown() {
    IllegalStateException failure = new IllegalStateException("rate limited");

    assertThatThrownBy(
            () ->
                recorder.call(
                    "openai",
                    "gpt-4",
                    () -> {
                      throw failure;
                    }))
        .isSameAs(failure);

    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "error"))
        .isEqualTo(1);
    assertThat(
            scraped.value(
                "ai_model_errors_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "error_type",
                "IllegalStateException"))
        .isEqualTo(1);
    assertThat(
            scraped.value(
                "ai_processing_duration_seconds_count", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(1);
  }

  @Test
  void aCheckedExceptionPassesThroughAsTheSameInstance() {
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

    assertThat(
            Scraped.of(prometheus)
                .value(
                    "ai_model_errors_total",
                    "model",
                    "gpt-4",
                    "provider",
                    "openai",
                    "error_type",
                    "SocketTimeoutException"))
        .isEqualTo(1);
  }

  @Test
  void callCheckedReturnsTheResult() throws Exception {
    Reply reply = new Reply("ok", 3, 4);
    assertThat(recorder.callChecked("openai", "gpt-4", () -> reply)).isSameAs(reply);
    assertThat(Scraped.of(prometheus).sum("ai_tokens_total")).isEqualTo(7);
  }

  @Test
  void aFutureIsRecordedWhenItCompletesBeforeCodeChainedOnIt() throws Exception {
    CompletableFuture<Reply> future = new CompletableFuture<>();
    Reply reply = new Reply("late", 100, 10);

    CompletableFuture<Reply> returned = recorder.call("openai", "gpt-4", () -> future);
    CompletableFuture<Double> chained =
        returned.thenApply(
            r -> {
              double recorded = Scraped.of(prometheus).sum("ai_model_requests_total");
              sleep(1000); // the caller's own work must not count as the model's time
              return recorded;
            });

    Thread.sleep(120);
    assertThat(returned).isNotDone();
    assertThat(Scraped.of(prometheus).sum("ai_model_requests_total"))
        .as("nothing recorded before completion")
        .isZero();
    executor.submit(() -> future.complete(reply));

    assertThat(returned.get(5, TimeUnit.SECONDS)).isSameAs(reply);
    assertThat(chained.get(5, TimeUnit.SECONDS)).as("recorded before chained code").isEqualTo(1);
    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .isEqualTo(1);
    assertThat(scraped.sum("ai_tokens_total")).isEqualTo(110);
    assertThat(
            scraped.value(
                "ai_processing_duration_seconds_sum", "model", "gpt-4", "provider", "openai"))
        .as("timed until completion, without the chained code")
        .isBetween(0.1, 0.99);
  }

  @Test
  void aFutureThatFailsCompletesTheReturnedOneWithTheSameException() throws Exception {
    CompletableFuture<Reply> future = new CompletableFuture<>();
    IOException failure = new IOException("connection reset");

    CompletableFuture<Reply> returned = recorder.call("anthropic", "claude-3-haiku", () -> future);
    CompletableFuture<Throwable> seen = returned.handle((r, e) -> e);
    executor.submit(() -> future.completeExceptionally(failure));

    assertThat(seen.get(5, TimeUnit.SECONDS)).isSameAs(failure);
    assertThatThrownBy(returned::join).isInstanceOf(CompletionException.class).hasCause(failure);
    assertThatThrownBy(() -> returned.get(1, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCause(failure);
    assertThat(
            Scraped.of(prometheus)
                .value(
                    "ai_model_errors_total",
                    "model",
                    "claude-3-haiku",
                    "provider",
                    "anthropic",
                    "error_type",
                    "IOException"))
        .isEqualTo(1);
  }

  @Test
  void cancellingTheReturnedFutureCancelsTheCallsFuture() {
    CompletableFuture<Reply> future = new CompletableFuture<>();

    CompletableFuture<Reply> returned = recorder.call("openai", "gpt-4", () -> future);
    assertThat(returned.cancel(true)).isTrue();

    assertThat(future).isCancelled();
    assertThat(Scraped.of(prometheus).labelValues("ai_model_errors_total", "error_type"))
        .containsExactly("CancellationException");
  }

  /** A future type of the service's own, which the recorder must hand back unchanged. */
  static final class ServiceFuture<T> extends CompletableFuture<T> {}

  @Test
  void otherStagesAreReturnedAsTheSameInstanceAndRecordedOnCompletion() throws Exception {
    ServiceFuture<Reply> own = new ServiceFuture<>();
    CompletableFuture<Reply> source = new CompletableFuture<>();
    CompletionStage<Reply> minimal = source.minimalCompletionStage();

    assertThat(recorder.call("openai", "gpt-4", () -> own)).isSameAs(own);
    // As Object: AssertJ would look at a CompletionStage through toCompletableFuture().
    Object returned = recorder.call("openai", "gpt-4", () -> minimal);
    assertThat(returned == minimal).as("the same stage").isTrue();
    own.complete(new Reply("", 1, 1));
    source.complete(new Reply("", 2, 2));

    await(() -> Scraped.of(prometheus).sum("ai_model_requests_total") == 2);
    assertThat(Scraped.of(prometheus).sum("ai_tokens_total")).isEqualTo(6);
  }

  @Test
  void anAlreadyCompletedFutureIsRecordedAtOnce() {
    CompletableFuture<Reply> returned =
        recorder.call(
            "openai", "gpt-4", () -> CompletableFuture.completedFuture(new Reply("", 1250, 0)));

    assertThat(returned.join().inputTokens()).isEqualTo(1250);
    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
  }

  @Test
  void aFailureWrappedByADependentStageIsRecordedAsTheCause() {
    CompletableFuture<Reply> source = new CompletableFuture<>();
    CompletableFuture<Reply> dependent = source.thenApply(r -> r);

    CompletableFuture<Reply> returned = recorder.call("openai", "gpt-4", () -> dependent);
    source.completeExceptionally(new IllegalArgumentException("bad prompt"));

    assertThat(returned).isCompletedExceptionally();
    assertThat(Scraped.of(prometheus).labelValues("ai_model_errors_total", "error_type"))
        .containsExactly("IllegalArgumentException");
  }

  @Test
  void aStreamedCallReportsItsUsageOnTheHandle() {
    AiCall call;
    try (AiCall streaming = recorder.start("openai", "gpt-4")) {
      call = streaming;
      assertThat(AiCall.current()).isSameAs(streaming);
      streaming.usage(500, 100);
      streaming.usage(1250, 0); // a later report replaces the earlier one
    }

    assertThat(AiCall.current()).isNotSameAs(call);
    assertThat(call.isEnded()).isTrue();
    assertThat(call.inputTokens()).isEqualTo(1250);
    assertThat(call.totalTokens()).isEqualTo(1250);
    assertThat(call.costUsd()).hasValue(0.0375);
    assertThat(call.model()).isEqualTo("gpt-4");
    assertThat(call.provider()).isEqualTo("openai");
    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .isEqualTo(1);
  }

  @Test
  void aHandleClosedWithoutAnOutcomeIsAnIncompleteError() {
    assertThatThrownBy(
            () -> {
              try (AiCall call = recorder.start("openai", "gpt-4")) {
                assertThat(call.isEnded()).isFalse();
                throw new IllegalStateException("stream broke before the usage");
              }
            })
        .isInstanceOf(IllegalStateException.class);
    try (AiCall call = recorder.start("openai", "gpt-4")) {
      call.success();
    }
    try (AiCall call = recorder.start("openai", "gpt-4")) {
      call.error(new SocketTimeoutException());
    }

    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_errors_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "error_type",
                AiCall.INCOMPLETE))
        .isEqualTo(1);
    assertThat(
            scraped.value(
                "ai_model_errors_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "error_type",
                "SocketTimeoutException"))
        .isEqualTo(1);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .isEqualTo(1);
  }

  @Test
  void closingTwiceRecordsOnce() {
    AiCall call = recorder.start("openai", "gpt-4").usage(1, 1);
    call.close();
    call.close();
    assertThat(Scraped.of(prometheus).sum("ai_model_requests_total")).isEqualTo(1);
  }

  @Test
  void anErrorReportedInsideTheCallMakesAReturnedFallbackAFailure() {
    String answer =
        recorder.call(
            "openai",
            "gpt-4",
            () -> {
              AiCall.current().error(new SocketTimeoutException("provider down"));
              return "cached fallback";
            });

    assertThat(answer).isEqualTo("cached fallback");
    assertThat(Scraped.of(prometheus).labelValues("ai_model_errors_total", "error_type"))
        .containsExactly("SocketTimeoutException");
  }

  @Test
  void aRegisteredExtractorReadsAThirdPartyResponse() {
    AiCalls withExtractor =
        AiCalls.builder(metrics)
            .usageExtractor(SdkResponse.class, r -> AiUsage.of(r.promptTokens, r.completionTokens))
            .build();
    SdkResponse response = new SdkResponse(1250, 0);

    assertThat(withExtractor.call("openai", "gpt-4", () -> response)).isSameAs(response);

    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "input"))
        .isEqualTo(1250);
    assertThat(scraped.value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
  }

  @Test
  void aFailingExtractorNeverChangesTheResultAndIsCountedAndWarnedOnce() {
    AiCalls withExtractor =
        AiCalls.builder(metrics)
            .usageExtractor(
                SdkResponse.class,
                r -> {
                  throw new IllegalStateException("SDK changed its fields");
                })
            .build();
    SdkResponse response = new SdkResponse(10, 10);

    try (Warnings warnings = new Warnings(AiCalls.class)) {
      assertThat(withExtractor.call("openai", "gpt-4", () -> response)).isSameAs(response);
      assertThat(withExtractor.call("openai", "gpt-4", () -> response)).isSameAs(response);

      assertThat(warnings.messages())
          .singleElement()
          .satisfies(w -> assertThat(w).contains("stage usage"));
    }
    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.value("conea_ai_recording_failures_total", "stage", "usage")).isEqualTo(2);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .as("the calls still count")
        .isEqualTo(2);
    assertThat(scraped.sum("ai_tokens_total")).isZero();
  }

  @Test
  void aThrowingAiUsageResultIsReturnedUnchanged() {
    AiUsage broken =
        new AiUsage() {
          @Override
          public long inputTokens() {
            throw new UnsupportedOperationException("not yet streamed");
          }

          @Override
          public long outputTokens() {
            return 0;
          }
        };

    try (Warnings warnings = new Warnings(AiCalls.class)) {
      assertThat(recorder.call("openai", "gpt-4", () -> broken)).isSameAs(broken);
      assertThat(warnings.messages()).singleElement().asString().contains("stage usage");
    }

    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.value("conea_ai_recording_failures_total", "stage", "usage")).isEqualTo(1);
    assertThat(scraped.sum("ai_model_requests_total")).isEqualTo(1);
  }

  @Test
  void anUnknownModelRecordsTokensWithoutCostAndWarnsOncePerModel() {
    try (Warnings warnings = new Warnings(AiCalls.class)) {
      recorder.call("acme", "acme-llm-1", () -> new Reply("", 100, 50));
      recorder.call("acme", "acme-llm-1", () -> new Reply("", 100, 50));
      recorder.call("acme", "acme-llm-2", () -> new Reply("", 1, 1));

      assertThat(warnings.messages())
          .hasSize(2)
          .anySatisfy(w -> assertThat(w).contains("\"acme-llm-1\" has no price"))
          .anySatisfy(w -> assertThat(w).contains("\"acme-llm-2\" has no price"));
    }
    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_tokens_total", "model", "acme-llm-1", "provider", "acme", "type", "input"))
        .isEqualTo(200);
    assertThat(scraped.value("ai_cost_usd_total", "model", "acme-llm-1", "provider", "acme"))
        .isZero();
  }

  @Test
  void warningsAboutUnpricedModelsAreBounded() {
    try (Warnings warnings = new Warnings(AiCalls.class)) {
      for (int i = 0; i < AiCalls.MAX_WARNED_MODELS + 20; i++) {
        String model = "m" + i;
        recorder.start("acme", model).usage(1, 1).close();
      }
      assertThat(warnings.messages()).hasSize(AiCalls.MAX_WARNED_MODELS + 1);
      assertThat(warnings.messages().get(AiCalls.MAX_WARNED_MODELS))
          .contains("More than 100 AI models without a price");
    }
  }

  @Test
  void theRequestedModelNamesTheLabelEvenWhenADatedVersionAnswers() {
    recorder.call("openai", "gpt-4o", () -> AiUsage.of(1000, 0, "gpt-4o-2024-08-06"));

    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.labelValues("ai_model_requests_total", "model")).containsExactly("gpt-4o");
    // The dated name has no price, so the requested model's is used: 1,000 x 0.0025 / 1,000.
    assertThat(scraped.value("ai_cost_usd_total", "model", "gpt-4o", "provider", "openai"))
        .isEqualTo(0.0025);
  }

  @Test
  void theAnsweringModelsPriceWinsWhenItHasOne() {
    // Routed from gpt-4o to gpt-4o-mini: the cost is gpt-4o-mini's, under the requested label.
    recorder.call("openai", "gpt-4o", () -> AiUsage.of(1000, 1000, "gpt-4o-mini"));

    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4o", "provider", "openai"))
        .isEqualTo(0.00075);
  }

  @Test
  void modelAndProviderGivenAtRunTimeNameTheLabels() {
    AiCall call = recorder.start("placeholder", "placeholder");
    call.model("gemini-1.5-pro").provider("google").usage(1000, 1000);
    call.close();

    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.labelValues("ai_model_requests_total", "model"))
        .containsExactly("gemini-1.5-pro");
    assertThat(scraped.labelValues("ai_model_requests_total", "provider"))
        .containsExactly("google");
    assertThat(scraped.value("ai_cost_usd_total", "model", "gemini-1.5-pro", "provider", "google"))
        .isEqualTo(0.00625);
  }

  @Test
  void overLongAndManyNamesFromResponsesAreCappedInTheLabels() {
    ConeaMetrics capped = ConeaMetrics.builder(prometheus.registry()).maxLabelValues(2).build();
    AiCalls calls = AiCalls.builder(capped).build();
    for (int i = 0; i < 5; i++) {
      String model = "model-" + i;
      calls.call("p", "m" + i, () -> AiUsage.of(1, 1, model));
    }
    calls.call("p", "x".repeat(10_000), () -> AiUsage.of(1, 1));

    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.labelValues("ai_model_requests_total", "model"))
        .containsExactlyInAnyOrder("m0", "m1", "_OTHER");
    assertThat(scraped.sum("ai_model_requests_total")).isEqualTo(6);
    assertThat(scraped.sum("ai_tokens_total")).isEqualTo(12);
  }

  @Test
  void tenThousandCallsOverEveryModelProviderPairStayWithinTheCapOnCombinations() {
    AiPricing pricing = AiPricing.builder().price("model-7", 1, 2).build();
    AiCalls calls = AiCalls.builder(metrics).pricing(pricing).build();
    long tokens = 0;
    double cost = 0;
    try (Warnings warnings = new Warnings(ConeaMetrics.class, AiCalls.class)) {
      for (int m = 0; m < 100; m++) {
        for (int p = 0; p < 100; p++) {
          long in = 1 + p % 9;
          long out = 1 + m % 4;
          tokens += in + out;
          cost += m == 7 ? in / 1000.0 + out * 2 / 1000.0 : 0;
          calls.call("provider-" + p, "model-" + m, () -> AiUsage.of(in, out));
        }
      }

      assertThat(warnings.messages())
          .filteredOn(w -> w.contains("reached its cap of 500 label combinations"))
          .hasSize(4);
    }

    Scraped scraped = Scraped.of(prometheus);
    for (String name :
        List.of(
            "ai_model_requests_total",
            "ai_tokens_total",
            "ai_cost_usd_total",
            "ai_processing_duration_seconds_count")) {
      assertThat(
              scraped.named(name).stream()
                  .map(s -> s.labels().get("model") + "/" + s.labels().get("provider"))
                  .distinct())
          .as(name)
          .hasSize(ConeaMetrics.DEFAULT_MAX_LABEL_COMBINATIONS);
    }
    assertThat(scraped.sum("ai_model_requests_total")).isEqualTo(10_000);
    assertThat(scraped.sum("ai_tokens_total")).isEqualTo(tokens);
    assertThat(scraped.sum("ai_cost_usd_total")).isCloseTo(cost, within(1e-9));
    assertThat(scraped.value("conea_label_overflow_total", "meter", "ai_model_requests_total"))
        .isEqualTo(10_000 - 499);
  }

  @Test
  void everyAiMeterKeepsTheSameLabelKeysWhateverHappens() {
    recorder.call("openai", "gpt-4", () -> new Reply("", 1, 1));
    assertThatThrownBy(
            () ->
                recorder.call(
                    "openai",
                    "gpt-4o",
                    () -> {
                      throw new IllegalStateException();
                    }))
        .isInstanceOf(IllegalStateException.class);
    recorder.call("acme", "unpriced", () -> "no usage at all");
    try (AiCall call = recorder.start("openai", "gpt-4")) {
      call.model("gpt-4o-mini");
    }
    metrics.ai().record(AiCallOutcome.failure(null, null, null, 1, 1, 1, 1));

    Scraped scraped = Scraped.of(prometheus);
    Map<String, List<String>> expected =
        Map.of(
            "ai_model_requests_total", List.of("model", "provider", "status"),
            "ai_model_errors_total", List.of("error_type", "model", "provider"),
            "ai_tokens_total", List.of("model", "provider", "type"),
            "ai_cost_usd_total", List.of("model", "provider"),
            "ai_processing_duration_seconds_count", List.of("model", "provider"),
            "ai_processing_duration_seconds_bucket", List.of("le", "model", "provider"),
            "conea_ai_recording_failures_total", List.of("stage"));
    expected.forEach(
        (name, keys) ->
            assertThat(scraped.labelKeys(name))
                .as(name)
                .singleElement()
                .satisfies(k -> assertThat(k).containsExactlyInAnyOrderElementsOf(keys)));
  }

  @Test
  void theRecorderPricesAResultsUsageAsItRecordedIt() {
    Reply reply = recorder.call("openai", "gpt-4", () -> new Reply("", 1250, 0));

    assertThat(recorder.costUsd("gpt-4", reply)).hasValue(0.0375);
    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(recorder.costUsd("gpt-4", reply).getAsDouble());
    assertThat(recorder.costUsd("gpt-4o", AiUsage.of(1000, 1000, "gpt-4o-mini")))
        .as("the answering model's price first")
        .hasValue(0.00075);
    assertThat(recorder.costUsd("acme-llm", reply)).isEmpty();
    assertThat(recorder.pricing()).isSameAs(AiPricing.defaults());
  }

  @Test
  void theMdcHoldsModelAndProviderWhileTheCallRunsAndIsRestoredAfter() {
    MDC.put("model", "outer");
    List<String> seen = new ArrayList<>();

    recorder.call(
        "openai",
        "gpt-4",
        () -> {
          seen.add(MDC.get("model"));
          seen.add(MDC.get("provider"));
          AiCall.current().model("gpt-4o");
          seen.add(MDC.get("model"));
          return null;
        });

    assertThat(seen).containsExactly("gpt-4", "openai", "gpt-4o");
    assertThat(MDC.get("model")).isEqualTo("outer");
    assertThat(MDC.get("provider")).isNull();
  }

  @Test
  void theMdcIsLeftAloneWhenSwitchedOff() {
    AiCalls quiet = AiCalls.builder(metrics).mdc(false).build();
    String model = quiet.call("openai", "gpt-4", () -> MDC.get("model"));
    assertThat(model).isNull();
  }

  @Test
  void nestedCallsEachBecomeCurrentAndRestoreTheOuterOne() {
    recorder.call(
        "openai",
        "outer",
        () -> {
          AiCall outer = AiCall.current();
          recorder.call(
              "openai",
              "inner",
              () -> {
                assertThat(AiCall.current()).isNotSameAs(outer);
                assertThat(AiCall.current().model()).isEqualTo("inner");
                return null;
              });
          assertThat(AiCall.current()).isSameAs(outer);
          return null;
        });
    assertThat(Scraped.of(prometheus).labelValues("ai_model_requests_total", "model"))
        .containsExactlyInAnyOrder("outer", "inner");
  }

  @Test
  void reportsOutsideAnyCallAndAfterTheEndAreDroppedWithOneWarningEach() {
    try (Warnings warnings = new Warnings(AiCalls.class)) {
      AiCall call = recorder.start("openai", "gpt-4").usage(10, 10);
      call.close();
      call.usage(99, 99);
      call.model("other");

      assertThat(call.inputTokens()).isEqualTo(10);
      assertThat(call.model()).isEqualTo("gpt-4");
      assertThat(warnings.messages())
          .hasSize(2)
          .allSatisfy(w -> assertThat(w).contains("after the call had ended"));
    }
    AiCall none = AiCall.current();
    assertThat(none.usage(5, 5).model("x").isEnded()).isTrue();
    assertThat(none.inputTokens()).isZero();
    assertThat(none.costUsd()).isEmpty();
    assertThat(Scraped.of(prometheus).sum("ai_tokens_total")).isEqualTo(20);
  }

  @Test
  void nullOrBlankNamesNeverFailTheCallAndAreRecordedAsOther() {
    assertThat(recorder.call(" ", null, () -> "answer")).isEqualTo("answer");
    try (AiCall call = recorder.start(null, "")) {
      call.model(null).provider(" ").usage(null).error(null).usage(1, 1);
    }

    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "_OTHER",
                "provider",
                "_OTHER",
                "status",
                "success"))
        .isEqualTo(2);
    assertThatThrownBy(() -> recorder.call("openai", "gpt-4", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("call");
    assertThatThrownBy(() -> AiCalls.builder(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void callsFromManyThreadsAreAllCounted() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch done = new CountDownLatch(400);
    try {
      for (int i = 0; i < 400; i++) {
        pool.submit(
            () -> {
              recorder.call("openai", "gpt-4", () -> new Reply("", 1, 2));
              done.countDown();
            });
      }
      assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }
    Scraped scraped = Scraped.of(prometheus);
    assertThat(scraped.sum("ai_model_requests_total")).isEqualTo(400);
    assertThat(scraped.sum("ai_tokens_total")).isEqualTo(1200);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition met within 5 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }
}
