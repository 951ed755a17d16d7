package io.conea.demo;

import io.conea.ai.AiCalls;
import io.conea.ai.AiModelCallAspect;
import io.conea.ai.AiPricing;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.jetty.JettyDrain;
import io.conea.tracing.netty.ConeaTracingHandler;
import io.conea.tracing.netty.NettyDrain;
import io.conea.tracing.sdk.ConeaTracing;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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

  /**
   * How long the servers may take to answer the requests in flight at shutdown, by default: with
   * the span flush ({@link #FLUSH_TIMEOUT}) well within Kubernetes' default grace period of 30 s.
   */
  static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(10);

  /** How long the last span export may take at shutdown. */
  static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);

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
      Settings settings =
          new Settings(
              host,
              port(env, "CONEA_DEMO_SERVLET_PORT", 8080),
              port(env, "CONEA_DEMO_NETTY_PORT", 8081),
              args.contains("--traffic"),
              env);
      settings.drainTimeout(); // fails now rather than at shutdown
      return settings;
    }

    /**
     * How long both servers together may take to answer the requests in flight at shutdown: {@code
     * CONEA_DEMO_DRAIN_SECONDS}, 10 by default.
     */
    Duration drainTimeout() {
      String value = env.get("CONEA_DEMO_DRAIN_SECONDS");
      if (value == null || value.isBlank()) {
        return DEFAULT_DRAIN_TIMEOUT;
      }
      try {
        double seconds = Double.parseDouble(value.trim());
        if (seconds >= 0 && seconds <= 3600) {
          return Duration.ofMillis(Math.round(seconds * 1000));
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(
          "CONEA_DEMO_DRAIN_SECONDS must be a number of seconds (0-3600), was: " + value);
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
  private final Duration drainTimeout;
  private TrafficGenerator traffic;

  private Demo(Settings settings) throws Exception {
    drainTimeout = settings.drainTimeout();
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
    jetty = new JettyServer(settings.host(), settings.servletPort(), api, http);
    NettyDrain drain = NettyDrain.create();
    netty =
        new NettyServer(
            settings.host(),
            settings.nettyPort(),
            api,
            () -> ConeaTracingHandler.create(http, drain),
            drain);
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
    ConeaTracing.Builder builder =
        ConeaTracing.builder("conea-api")
            .addSpanProcessor(recentSpans)
            .shutdownTimeout(FLUSH_TIMEOUT);
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

  /**
   * Stops gracefully, within the drain timeout plus the flush timeout: both servers stop accepting
   * at once, drain in parallel (requests in flight are answered with Connection: close, idle
   * connections closed), then spans are flushed.
   */
  @Override
  public void close() {
    long started = System.nanoTime();
    if (traffic != null) {
      traffic.close();
    }
    // Both ports refuse new connections from the same moment on.
    CompletableFuture<Void> nettyClosed =
        CompletableFuture.runAsync(
            () -> {
              try {
                netty.stopAccepting();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    try {
      jetty.stopAccepting();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("Jetty did not stop accepting cleanly", e);
    }
    nettyClosed.join();
    // Both drain in parallel, under one bound.
    CompletableFuture<NettyDrain.Result> nettyDrained =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return netty.drain(drainTimeout);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
              }
            });
    JettyDrain.Result jettyDrained = null;
    try {
      jettyDrained = jetty.drain(drainTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("Jetty did not drain cleanly", e);
    }
    NettyDrain.Result drained = nettyDrained.join();
    try {
      jetty.stop();
    } catch (Exception e) {
      log.warn("Jetty did not stop cleanly", e);
    }
    try {
      netty.stopLoops();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long stoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    if (jettyDrained != null) {
      log.atInfo()
          .addKeyValue("in_flight", jettyDrained.inFlightAtStart())
          .addKeyValue("completed", jettyDrained.completed())
          .addKeyValue("abandoned", jettyDrained.abandoned())
          .addKeyValue("idle_closed", jettyDrained.idleClosed())
          .addKeyValue("forced_closes", jettyDrained.forcedCloses())
          .addKeyValue("drain_ms", jettyDrained.elapsed().toMillis())
          .addKeyValue("servers_stopped_ms", stoppedMillis)
          .log("Jetty connections drained");
    }
    if (drained != null) {
      log.atInfo()
          .addKeyValue("in_flight", drained.inFlightAtStart())
          .addKeyValue("completed", drained.completed())
          .addKeyValue("abandoned", drained.abandoned())
          .addKeyValue("idle_closed", drained.idleClosed())
          .addKeyValue("forced_closes", drained.forcedCloses())
          .addKeyValue("drain_ms", drained.elapsed().toMillis())
          .addKeyValue("servers_stopped_ms", stoppedMillis)
          .log("Netty connections drained");
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
