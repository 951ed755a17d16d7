package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.EnableAspectJAutoProxy;

/** The aspect applied by Spring AOP: through {@link AspectJProxyFactory} and a real context. */
class AiModelCallAspectTest {

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();
  private final ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
  private final AiCalls recorder = AiCalls.builder(metrics).build();

  @AfterEach
  void close() {
    prometheus.close();
  }

  record Reply(String text, long inputTokens, long outputTokens) implements AiUsage {}

  /** A result that also says who answered. */
  record Answer(long inputTokens, long outputTokens, String model, String provider)
      implements AiUsage {}

  /** Calls models the ways services do. */
  static class ChatClient {

    @AiModelCall(provider = "openai", model = "gpt-4")
    public Reply ask(String prompt) {
      return new Reply("answer to " + prompt, 1250, 0);
    }

    @AiModelCall(provider = "openai", model = "gpt-4")
    public Reply askAndFail(Exception failure) throws Exception {
      throw failure;
    }

    @AiModelCall(provider = "openai")
    public Reply askModel(@AiModel String model, String prompt) {
      return new Reply(prompt, 10, 20);
    }

    @AiModelCall
    public Reply askAnyone(@AiProvider String provider, @AiModel @Nullable String model) {
      return new Reply("", 1, 1);
    }

    @AiModelCall(provider = "anthropic")
    public String decidedAtRunTime() {
      AiCall.current().model("claude-3-haiku").usage(4000, 400);
      return "streamed";
    }

    @AiModelCall
    public Answer reportedByTheResult() {
      return new Answer(1000, 0, "gpt-4o", "azure");
    }

    @AiModelCall(provider = "openai", model = "gpt-4")
    public CompletableFuture<Reply> askLater(CompletableFuture<Reply> answer) {
      return answer;
    }

    @AiModelCall(provider = "openai", model = "gpt-4")
    public @Nullable String mdcModel() {
      return MDC.get("model");
    }

    public Reply notAnnotated() {
      return new Reply("", 5, 5);
    }
  }

  /** Every public method is a model call. */
  @AiModelCall(provider = "google", model = "gemini-1.5-pro")
  static class GeminiClient {

    public Reply generate() {
      return new Reply("", 1000, 1000);
    }

    @AiModelCall(provider = "google", model = "gemini-1.5-flash")
    public Reply generateFast() {
      return new Reply("", 1000, 1000);
    }
  }

  /** The interface a JDK proxy implements; the annotation is on the implementation. */
  interface Chat {
    Reply chat(String prompt);
  }

  static final class OpenAiChat implements Chat {
    @Override
    @AiModelCall(provider = "openai", model = "gpt-4o-mini")
    public Reply chat(String prompt) {
      return new Reply(prompt, 1000, 1000);
    }
  }

  private <T> T proxy(T target) {
    AspectJProxyFactory factory = new AspectJProxyFactory(target);
    factory.addAspect(new AiModelCallAspect(recorder));
    return factory.getProxy();
  }

  private double requests(String model, String provider, String status) {
    return Scraped.of(prometheus)
        .value("ai_model_requests_total", "model", model, "provider", provider, "status", status);
  }

  @Test
  void anAnnotatedMethodIsRecordedWithTheGuidesMetrics() {
    ChatClient client = proxy(new ChatClient());

    Reply reply = client.ask("hello");

    assertThat(reply.text()).isEqualTo("answer to hello");
    assertThat(requests("gpt-4", "openai", "success")).isEqualTo(1);
    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "input"))
        .isEqualTo(1250);
    assertThat(scraped.value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
    assertThat(
            scraped.value(
                "ai_processing_duration_seconds_count", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(1);
  }

  @Test
  void aMethodThatThrowsIsRecordedAsAnErrorAndRethrowsTheSameException() {
    ChatClient client = proxy(new ChatClient());
    IOException checked = new IOException("connection reset");
    IllegalStateException unchecked = new IllegalStateException("quota");

    assertThatThrownBy(() -> client.askAndFail(checked)).isSameAs(checked);
    assertThatThrownBy(() -> client.askAndFail(unchecked)).isSameAs(unchecked);

    assertThat(requests("gpt-4", "openai", "error")).isEqualTo(2);
    assertThat(Scraped.of(prometheus).labelValues("ai_model_errors_total", "error_type"))
        .containsExactlyInAnyOrder("IOException", "IllegalStateException");
  }

  @Test
  void annotatedParametersGiveModelAndProvider() {
    ChatClient client = proxy(new ChatClient());

    client.askModel("gpt-4o", "hi");
    client.askAnyone("anthropic", "claude-3-5-sonnet");

    assertThat(requests("gpt-4o", "openai", "success")).isEqualTo(1);
    assertThat(requests("claude-3-5-sonnet", "anthropic", "success")).isEqualTo(1);
  }

  @Test
  void aModelGivenAtRunTimeAndReportedUsageAreRecorded() {
    ChatClient client = proxy(new ChatClient());

    assertThat(client.decidedAtRunTime()).isEqualTo("streamed");

    Scraped scraped = Scraped.of(prometheus);
    assertThat(requests("claude-3-haiku", "anthropic", "success")).isEqualTo(1);
    // 4,000 x 0.00025 + 400 x 0.00125 per 1,000 tokens.
    assertThat(
            scraped.value("ai_cost_usd_total", "model", "claude-3-haiku", "provider", "anthropic"))
        .isEqualTo(0.0015);
  }

  @Test
  void aResultCanNameTheModelAndProviderThatAnswered() {
    proxy(new ChatClient()).reportedByTheResult();

    assertThat(requests("gpt-4o", "azure", "success")).isEqualTo(1);
    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4o", "provider", "azure"))
        .isEqualTo(0.0025);
  }

  @Test
  void aCallWithNoModelAtAllIsStillCountedUnderOther() {
    proxy(new ChatClient()).askAnyone("openai", null);

    assertThat(requests("_OTHER", "openai", "success")).isEqualTo(1);
  }

  @Test
  void aFutureIsRecordedOnCompletionAndTheReturnedOneCompletesIdentically() throws Exception {
    ChatClient client = proxy(new ChatClient());
    CompletableFuture<Reply> later = new CompletableFuture<>();
    CompletableFuture<Reply> failing = new CompletableFuture<>();
    Reply reply = new Reply("", 1250, 0);
    IOException failure = new IOException("reset");

    CompletableFuture<Reply> answered = client.askLater(later);
    CompletableFuture<Reply> failed = client.askLater(failing);
    assertThat(Scraped.of(prometheus).sum("ai_model_requests_total")).isZero();
    later.complete(reply);
    failing.completeExceptionally(failure);

    assertThat(answered.get(1, TimeUnit.SECONDS)).isSameAs(reply);
    assertThat(failed.handle((r, e) -> e).get(1, TimeUnit.SECONDS)).isSameAs(failure);
    assertThat(requests("gpt-4", "openai", "success")).isEqualTo(1);
    assertThat(requests("gpt-4", "openai", "error")).isEqualTo(1);
    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
  }

  @Test
  void theMdcHoldsTheModelInsideTheMethod() {
    assertThat(proxy(new ChatClient()).mdcModel()).isEqualTo("gpt-4");
    assertThat(MDC.get("model")).isNull();
  }

  @Test
  void methodsWithoutTheAnnotationAreNotRecorded() {
    proxy(new ChatClient()).notAnnotated();

    assertThat(Scraped.of(prometheus).sum("ai_model_requests_total")).isZero();
  }

  @Test
  void onATypeEveryPublicMethodIsACallAndAMethodsOwnAnnotationWins() {
    GeminiClient client = proxy(new GeminiClient());

    client.generate();
    client.generateFast();

    assertThat(requests("gemini-1.5-pro", "google", "success")).isEqualTo(1);
    assertThat(requests("gemini-1.5-flash", "google", "success")).isEqualTo(1);
    assertThat(Scraped.of(prometheus).sum("ai_model_requests_total")).isEqualTo(2);
  }

  @Test
  void anInterfaceProxyFindsTheAnnotationOnTheImplementation() {
    Chat chat = proxy(new OpenAiChat());

    assertThat(chat).isNotInstanceOf(OpenAiChat.class);
    chat.chat("hi");

    assertThat(requests("gpt-4o-mini", "openai", "success")).isEqualTo(1);
  }

  /** The usual Spring set-up: the aspect as a bean and auto-proxying switched on. */
  @Configuration
  @EnableAspectJAutoProxy
  static class AiConfiguration {

    @Bean
    AiModelCallAspect aiModelCallAspect(AiCalls recorder) {
      return new AiModelCallAspect(recorder);
    }

    @Bean
    ChatClient chatClient() {
      return new ChatClient();
    }
  }

  @Test
  void aSpringContextWithTheAspectBeanRecordsAnnotatedBeans() {
    try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
      context.registerBean(AiCalls.class, () -> recorder);
      context.register(AiConfiguration.class);
      context.refresh();

      context.getBean(ChatClient.class).ask("hello");
    }

    assertThat(requests("gpt-4", "openai", "success")).isEqualTo(1);
  }
}
