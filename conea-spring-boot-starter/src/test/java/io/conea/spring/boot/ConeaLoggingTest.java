package io.conea.spring.boot;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.boot.support.EnvironmentPostProcessorApplicationListener;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.mock.env.MockEnvironment;

/** The listener's defaults and the structured log formatter. */
class ConeaLoggingTest {

  @Test
  void jsonConsoleLinesAndNoBannerByDefault() {
    StandardEnvironment environment = new StandardEnvironment();
    ConeaEnvironmentListener.apply(environment);
    assertThat(environment.getProperty("logging.structured.format.console"))
        .isEqualTo(ConeaStructuredLogFormatter.class.getName());
    assertThat(environment.getProperty("spring.main.banner-mode")).isEqualTo("off");
    // The lowest precedence: everything the application sets wins.
    assertThat(
            environment.getPropertySources().stream().reduce((a, b) -> b).orElseThrow().getName())
        .isEqualTo(ConeaEnvironmentListener.PROPERTY_SOURCE_NAME);
  }

  @Test
  void theApplicationsSettingsWin() {
    StandardEnvironment environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .addFirst(
            new MapPropertySource(
                "application",
                Map.of(
                    "logging.structured.format.console",
                    "ecs",
                    "spring.main.banner-mode",
                    "console")));
    ConeaEnvironmentListener.apply(environment);
    assertThat(environment.getProperty("logging.structured.format.console")).isEqualTo("ecs");
    assertThat(environment.getProperty("spring.main.banner-mode")).isEqualTo("console");
  }

  @Test
  void jsonCanBeTurnedOff() {
    StandardEnvironment environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .addFirst(new MapPropertySource("application", Map.of("conea.logging.json", "false")));
    ConeaEnvironmentListener.apply(environment);
    assertThat(environment.getProperty("logging.structured.format.console")).isNull();
    assertThat(environment.getProperty("spring.main.banner-mode")).isNull();
  }

  @Test
  void theListenerRunsAfterConfigDataAndBeforeLogging() throws Exception {
    assertThat(new ConeaEnvironmentListener().getOrder())
        .isGreaterThan(EnvironmentPostProcessorApplicationListener.DEFAULT_ORDER)
        .isLessThan(LoggingApplicationListener.DEFAULT_ORDER);
    Properties factories = new Properties();
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring.factories")) {
      factories.load(in);
    }
    assertThat(factories.getProperty("org.springframework.context.ApplicationListener"))
        .isEqualTo(ConeaEnvironmentListener.class.getName());
  }

  @Test
  void everyAutoConfigurationIsImported() throws Exception {
    String imports;
    try (InputStream in =
        getClass()
            .getResourceAsStream(
                "/META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports")) {
      imports = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(imports.lines())
        .containsExactly(
            ConeaMetricsAutoConfiguration.class.getName(),
            ConeaTracingSdkAutoConfiguration.class.getName(),
            ConeaTracingAutoConfiguration.class.getName(),
            ConeaAiAutoConfiguration.class.getName());
  }

  @Test
  void theFormatterWritesOneJsonLineNamedAfterTheApplication() {
    MockEnvironment environment = new MockEnvironment();
    environment.setProperty("spring.application.name", "conea-api");
    ConeaStructuredLogFormatter formatter = new ConeaStructuredLogFormatter(environment);
    String line = formatter.format(event("AI chat request completed"));
    assertThat(line)
        .startsWith("{\"timestamp\":\"")
        .contains("\"level\":\"info\"", "\"service\":\"conea-api\"")
        .contains("\"message\":\"AI chat request completed\"")
        .endsWith("}\n");
    assertThat(line.indexOf('\n')).isEqualTo(line.length() - 1);
    assertThat(new String(formatter.formatAsBytes(event("x"), UTF_8), UTF_8))
        .contains("\"message\":\"x\"");
  }

  @Test
  void otelServiceNameWinsAsForTraces() {
    MockEnvironment environment = new MockEnvironment();
    environment.setProperty("spring.application.name", "conea-api");
    environment.setProperty("otel.service.name", "from-otel");
    assertThat(new ConeaStructuredLogFormatter(environment).format(event("m")))
        .contains("\"service\":\"from-otel\"");
  }

  private static LoggingEvent event(String message) {
    LoggerContext context = new LoggerContext();
    Logger logger = context.getLogger("test");
    return new LoggingEvent(Logger.class.getName(), logger, Level.INFO, message, null, null);
  }
}
