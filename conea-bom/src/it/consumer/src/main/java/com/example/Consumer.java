package com.example;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.conea.ai.AiCalls;
import io.conea.ai.AiUsage;
import io.conea.logging.ConeaJsonEncoder;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.sdk.ConeaTracing;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.RouteTemplates;
import java.util.Map;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Uses each conea module through the versions the BOM chose; fails loudly when one is off. */
public final class Consumer {

  private Consumer() {}

  public static void main(String[] args) {
    ConeaTracing tracing =
        ConeaTracing.builder("bom-consumer").config(Map.of("otel.traces.exporter", "none")).build();
    PrometheusMetrics prometheus = PrometheusMetrics.create(OpenTelemetryExemplars.create());
    ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
    HttpServerTracing http =
        tracing.httpServerTracing(metrics)
            .routes(RouteTemplates.of("/api/v1/users/{id}"))
            .build();
    metrics.http().record("GET", "/api/v1/users/{id}", "/api/v1/users/7", 200, TimeUnit.MILLISECONDS.toNanos(12));
    AiCalls ai = AiCalls.builder(metrics).openTelemetry(tracing.openTelemetry()).build();
    ai.call("openai", "gpt-4", () -> AiUsage.of(1250, 0));
    String scrape = new String(prometheus.scrape(null, null).body(), StandardCharsets.UTF_8);
    check(scrape.contains("http_requests_total{endpoint=\"/api/v1/users/{id}\",method=\"GET\",status=\"200\"} 1"), "scrape: " + scrape);
    check(scrape.contains("ai_cost_usd_total{model=\"gpt-4\",provider=\"openai\"} 0.0375"), "AI scrape: " + scrape);

    LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    ConeaJsonEncoder encoder = new ConeaJsonEncoder();
    encoder.setContext(context);
    encoder.setService("bom-consumer");
    encoder.start();
    LoggingEvent event = new LoggingEvent("com.example.Consumer", context.getLogger("consumer"), Level.INFO, "hello", null, null);
    String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
    check(line.contains("\"service\":\"bom-consumer\"") && line.contains("\"message\":\"hello\""), "log line: " + line);
    check(http.instrumentationFailures() == 0, "instrumentation failures");

    metrics.close();
    prometheus.close();
    tracing.close();
    System.out.println("bom consumer OK");
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("unexpected " + what);
    }
  }
}
