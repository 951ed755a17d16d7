package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The aspect applied by AspectJ compile-time weaving: {@link WovenChatClient} has no proxy. */
class WovenAiModelCallTest {

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();

  @BeforeEach
  void install() {
    ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
    AiModelCallAspect.install(AiCalls.builder(metrics).build());
  }

  @AfterEach
  void close() {
    prometheus.close();
  }

  private double requests(String model, String status) {
    return Scraped.of(prometheus)
        .value("ai_model_requests_total", "model", model, "provider", "openai", "status", status);
  }

  @Test
  void aWovenPrivateMethodCalledFromInsideTheObjectIsRecorded() {
    WovenChatClient.Reply reply = new WovenChatClient().ask("hello");

    assertThat(reply.inputTokens()).isEqualTo(1250);
    assertThat(requests("gpt-4", "success")).isEqualTo(1);
    assertThat(
            Scraped.of(prometheus)
                .value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(0.0375);
  }

  @Test
  void aWovenMethodRethrowsTheSameCheckedException() {
    IOException failure = new IOException("reset");

    assertThatThrownBy(() -> new WovenChatClient().fail(failure)).isSameAs(failure);

    assertThat(requests("gpt-4", "error")).isEqualTo(1);
  }

  @Test
  void aWovenStaticMethodTakesItsModelFromTheParameter() {
    WovenChatClient.askStatic("gpt-4o-mini");

    assertThat(requests("gpt-4o-mini", "success")).isEqualTo(1);
  }

  @Test
  void onAWovenTypeOnlyPublicMethodsAreCalls() {
    new WovenChatClient.Gemini().generate();

    Scraped scraped = Scraped.of(prometheus);
    assertThat(
            scraped.value(
                "ai_model_requests_total",
                "model",
                "gemini-1.5-pro",
                "provider",
                "google",
                "status",
                "success"))
        .isEqualTo(1);
    assertThat(scraped.sum("ai_model_requests_total"))
        .as("the private helper is no call")
        .isEqualTo(1);
  }
}
