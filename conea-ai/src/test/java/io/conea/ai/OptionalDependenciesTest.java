package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * The recorder works in a service that has neither opentelemetry-api nor AspectJ on its class path:
 * both are optional dependencies.
 */
class OptionalDependenciesTest {

  /** Runs inside a class loader without OpenTelemetry and AspectJ; returns the scrape. */
  public static final class Scenario implements Callable<String> {

    record Reply(long inputTokens, long outputTokens) implements AiUsage {}

    @Override
    public String call() {
      try (PrometheusMetrics prometheus = PrometheusMetrics.create()) {
        ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
        AiCalls recorder = AiCalls.builder(metrics).build();
        recorder.call("openai", "gpt-4", () -> new Reply(1250, 0));
        try (AiCall call = recorder.start("openai", "gpt-4")) {
          call.usage(AiUsage.of(0, 0));
        }
        return new String(prometheus.scrape(null, null).body(), StandardCharsets.UTF_8);
      }
    }
  }

  @Test
  void recordingNeedsNeitherOpenTelemetryNorAspectJ() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.contains("opentelemetry") && !entry.contains("aspectj")) {
        urls.add(Path.of(entry).toUri().toURL());
      }
    }
    try (URLClassLoader loader =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> loader.loadClass("io.opentelemetry.api.OpenTelemetry"))
          .isInstanceOf(ClassNotFoundException.class);
      assertThatThrownBy(() -> loader.loadClass("org.aspectj.lang.ProceedingJoinPoint"))
          .isInstanceOf(ClassNotFoundException.class);

      @SuppressWarnings("unchecked")
      Callable<String> scenario =
          (Callable<String>)
              loader.loadClass(Scenario.class.getName()).getDeclaredConstructor().newInstance();
      String scrape = scenario.call();

      assertThat(scrape)
          .contains(
              "ai_model_requests_total{model=\"gpt-4\",provider=\"openai\",status=\"success\"} 2")
          .contains("ai_cost_usd_total{model=\"gpt-4\",provider=\"openai\"} 0.0375");
    }
  }
}
