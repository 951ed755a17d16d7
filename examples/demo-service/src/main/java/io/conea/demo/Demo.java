package io.conea.demo;

import io.conea.ai.AiCalls;
import io.conea.ai.AiModelCallAspect;
import io.conea.ai.AiPricing;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.netty.ConeaTracingHandler;
import io.conea.tracing.sdk.ConeaTracing;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running demo: one set of meters and one tracer shared by a Jetty and a Netty server that
 * serve the same API.
 */
final class Demo implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Demo.class);
  static final long STOP_TIMEOUT_MILLIS = 15_000;

  /** What the demo is started with. */
  record Settings(
      String host, int servletPort, int nettyPort, boolean traffic, Map<String, String> env) {

    /** Loopback unless told otherwise: a demo is no service to offer to the network. */
    static final String DEFAULT_HOST = "127.0.0.1";

    static Settings fromEnvironment(Map<String, String> env, List<String> args) {
      String host = env.getOrDefault("CONEA_DEMO_HOST", DEFAULT_HOST).trim();
      if (host.isEmpty()) {
        throw new IllegalArgumentException(
            "CONEA_DEMO_HOST must be an address to listen on, such as 127.0.0.1 or 0.0.0.0");
      }
      return new Settings(
          host,
          port(env, "CONEA_DEMO_SERVLET_PORT", 8080),
          port(env, "CONEA_DEMO_NETTY_PORT", 8081),
          args.contains("--traffic"),
          env);
    }

    private static int port(Map<String, String> env, String name, int fallback) {
      String value = env.get(name);
      if (value == null || value.isBlank()) {
        return fallback;
      }
      try {
        int port = Integer.parseInt(value.trim());
        if (port >= 0 && port <= 65_535) {
          return port;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(name + " must be a port number (0-65535), was: " + value);
    }
  }

  private final ScheduledExecutorService scheduler =
      Executors.newScheduledThreadPool(
          2,
          task -> {
            Thread thread = new Thread(task, "demo-worker");
            thread.setDaemon(true);
            return thread;
          });
  private final PrometheusMetrics prometheus;
  private final ConeaMetrics metrics;
  private final ConeaTracing tracing;
  private final RecentSpans recentSpans = new RecentSpans(200);
  private final JettyServer jetty;
  private final NettyServer netty;
  private TrafficGenerator traffic;

  private Demo(Settings settings) throws Exception {
    tracing = tracing(settings.env(), recentSpans);
    prometheus = PrometheusMetrics.create(OpenTelemetryExemplars.create());
    metrics = ConeaMetrics.create(prometheus.registry());
    // The route templates also keep their own endpoint label: the builder declares them.
    HttpServerTracing http =
        tracing
            .httpServerTracing(metrics)
            .routes(RouteTemplates.of(DemoApi.ROUTES))
            // One line per request (method, path, status, duration_ms, trace and user ids), which
            // the guide's LogQL queries for slow requests and 5xx errors read.
            .accessLog(true)
            .build();
    // ChatService.complete is woven at compile time; the woven aspect records through this.
    AiCalls ai = AiCalls.create(metrics, AiPricing.defaults(), tracing.openTelemetry());
    AiModelCallAspect.install(ai);
    ChatService chat = new ChatService(ai, scheduler);
    DemoApi api = new DemoApi(metrics, prometheus, chat, recentSpans::toJson, scheduler);
    jetty =
        new JettyServer(settings.host(), settings.servletPort(), api, http, STOP_TIMEOUT_MILLIS);
    netty =
        new NettyServer(
            settings.host(), settings.nettyPort(), api, () -> ConeaTracingHandler.create(http));
  }

  /** Starts both servers, and the traffic if asked for. */
  static Demo start(Settings settings) throws Exception {
    Demo demo = new Demo(settings);
    try {
      demo.jetty.start();
      demo.netty.start();
    } catch (Exception e) {
      demo.close();
      throw e;
    }
    log.atInfo()
        .addKeyValue("servlet_port", demo.servletPort())
        .addKeyValue("netty_port", demo.nettyPort())
        .log("conea demo service started");
    if (settings.traffic()) {
      demo.traffic = new TrafficGenerator(List.of(demo.servletPort(), demo.nettyPort()));
      demo.traffic.start(20);
    }
    return demo;
  }

  int servletPort() {
    return jetty.port();
  }

  int nettyPort() {
    return netty.port();
  }

  /**
   * Sets up tracing from the standard {@code OTEL_*} variables. With no collector configured, spans
   * are kept in memory only, for {@code /debug/traces}, instead of failing to reach localhost:4318.
   */
  private static ConeaTracing tracing(Map<String, String> env, RecentSpans recentSpans) {
    ConeaTracing.Builder builder = ConeaTracing.builder("conea-api").addSpanProcessor(recentSpans);
    boolean collector =
        env.containsKey("OTEL_TRACES_EXPORTER")
            || env.containsKey("OTEL_EXPORTER_OTLP_ENDPOINT")
            || env.containsKey("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            || System.getProperty("otel.traces.exporter") != null
            || System.getProperty("otel.exporter.otlp.endpoint") != null
            || System.getProperty("otel.exporter.otlp.traces.endpoint") != null;
    if (!collector) {
      builder.config(Map.of("otel.traces.exporter", "none"));
    }
    return builder.build();
  }

  /** Stops gracefully: in-flight requests finish, then spans are flushed. */
  @Override
  public void close() {
    if (traffic != null) {
      traffic.close();
    }
    try {
      netty.stop(STOP_TIMEOUT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      jetty.stop();
    } catch (Exception e) {
      log.warn("Jetty did not stop cleanly", e);
    }
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    tracing.close();
    metrics.close();
    prometheus.close();
    log.info("conea demo service stopped");
  }
}
