package io.conea.benchmarks.overhead;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.Scrape;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.sdk.ConeaTracing;
import io.conea.tracing.servlet.ConeaTracingFilter;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serial;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;
import org.springframework.web.filter.ServerHttpObservationFilter;

/**
 * The measured service: Jetty 12 serving {@code GET /api/v1/users/{id}} (a small JSON object), set
 * up one of four ways ({@link Variant}). Every variant runs the same classes from the same class
 * path; only what {@link #start} adds differs (the agent variant adds nothing: the agent is given
 * on the command line).
 *
 * <p>{@code java ... io.conea.benchmarks.overhead.OverheadService <variant> <port> [probe-port]}
 * serves until the process is stopped. On the probe port (loopback, not HTTP, the same for every
 * variant) each connection receives one line, the JVM's total allocated heap bytes ({@code
 * com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}), and is closed: run.sh reads it
 * before and after the load for the allocation rate. No instrumentation sees that socket.
 */
public final class OverheadService implements AutoCloseable {

  /** The one route of the API. */
  public static final String ROUTE = "/api/v1/users/{id}";

  private static final String PREFIX = "/api/v1/users/";

  /** How the service is instrumented. */
  public enum Variant {
    /** Nothing: the baseline. */
    NONE,
    /**
     * conea as the guide sets it up: {@link ConeaTracingFilter}, {@link ConeaMetrics} on {@link
     * PrometheusMetrics} (with exemplars), {@link ConeaTracing} (10% parent-based sampling, OTLP
     * http/protobuf from the {@code otel.*} settings), {@code /metrics}.
     */
    CONEA,
    /** Nothing in the code: the OpenTelemetry Java agent instruments the process. */
    AGENT,
    /**
     * Spring's {@link ServerHttpObservationFilter} on a Micrometer {@link ObservationRegistry} with
     * a meter handler recording into a {@link PrometheusMeterRegistry}, the route set as the
     * observation's path pattern (as Spring MVC does), {@code /metrics}. Metrics only: no tracer.
     */
    MICROMETER;

    static Variant parse(String name) {
      return valueOf(name.toUpperCase(Locale.ROOT));
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final List<AutoCloseable> resources = new ArrayList<>();

  private OverheadService(Variant variant, String host, int port) {
    QueuedThreadPool threads = new QueuedThreadPool(64, 8);
    threads.setName("jetty");
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addServlet(new ServletHolder(new UsersServlet()), PREFIX + "*");
    switch (variant) {
      case NONE, AGENT -> {}
      case CONEA -> {
        ConeaTracing tracing = ConeaTracing.builder("overhead-service").build();
        PrometheusMetrics prometheus = PrometheusMetrics.create(OpenTelemetryExemplars.create());
        ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry());
        resources.add(tracing);
        resources.add(metrics);
        resources.add(prometheus);
        HttpServerTracing http =
            tracing.httpServerTracing(metrics).routes(RouteTemplates.of(ROUTE)).build();
        addFilter(context, ConeaTracingFilter.create(http));
        context.addServlet(
            new ServletHolder(
                new MetricsServlet(
                    request -> {
                      Scrape scrape =
                          prometheus.scrape(
                              request.getHeader("Accept"),
                              request.getHeader("Accept-Encoding"),
                              request.getQueryString());
                      return new MetricsBody(
                          scrape.status(),
                          scrape.contentType(),
                          scrape.contentEncoding(),
                          scrape.body());
                    })),
            "/metrics");
      }
      case MICROMETER -> {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ObservationRegistry observations = ObservationRegistry.create();
        observations
            .observationConfig()
            .observationHandler(new DefaultMeterObservationHandler(registry));
        resources.add(registry::close);
        addFilter(context, new ServerHttpObservationFilter(observations));
        context.addServlet(
            new ServletHolder(
                new MetricsServlet(
                    request -> {
                      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                      return new MetricsBody(
                          200, "text/plain; version=0.0.4; charset=utf-8", null, body);
                    })),
            "/metrics");
      }
    }
    server.setHandler(context);
  }

  private static void addFilter(ServletContextHandler context, Filter filter) {
    context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
  }

  /** Starts the service on {@code host:port} (0 for any free port). */
  public static OverheadService start(Variant variant, String host, int port) throws Exception {
    OverheadService service = new OverheadService(variant, host, port);
    try {
      service.server.start();
    } catch (Exception e) {
      service.close();
      throw e;
    }
    return service;
  }

  /** The port the service listens on. */
  public int port() {
    return connector.getLocalPort();
  }

  /** Stops the server, then closes what the variant set up (flushing conea's spans). */
  @Override
  public void close() {
    IllegalStateException failure = null;
    try {
      server.stop();
    } catch (Exception e) {
      failure = new IllegalStateException("Jetty did not stop", e);
    }
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("closing the instrumentation failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Serves until the process is stopped. */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: OverheadService none|conea|agent|micrometer <port> [probe-port]");
      System.exit(2);
    }
    Variant variant = Variant.parse(args[0]);
    if (args.length > 2) {
      startProbe(Integer.parseInt(args[2]));
    }
    OverheadService service = start(variant, "127.0.0.1", Integer.parseInt(args[1]));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    service.close();
                  } finally {
                    stopped.countDown();
                  }
                },
                "overhead-shutdown"));
    stopped.await();
  }

  /** The JVM's heap allocation so far, all threads (ended ones included). */
  static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getTotalThreadAllocatedBytes();
  }

  private static void startProbe(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    Thread thread =
        new Thread(
            () -> {
              while (true) {
                try (Socket client = socket.accept();
                    OutputStream out = client.getOutputStream()) {
                  out.write((allocatedBytes() + "\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                  // the next connection is served anyway
                }
              }
            },
            "allocation-probe");
    thread.setDaemon(true);
    thread.start();
  }

  /** {@code GET /api/v1/users/{id}}: a small JSON object, as a typical read endpoint returns. */
  static final class UsersServlet extends HttpServlet {
    @Serial private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      String id = request.getRequestURI().substring(PREFIX.length());
      // What Spring MVC does after matching a handler; a no-op without the observation filter.
      ServerHttpObservationFilter.findObservationContext(request)
          .ifPresent(observation -> observation.setPathPattern(ROUTE));
      if (id.isEmpty() || id.length() > 18 || !id.chars().allMatch(Character::isDigit)) {
        response.sendError(404);
        return;
      }
      byte[] body =
          ("{\"id\":"
                  + id
                  + ",\"name\":\"user-"
                  + id
                  + "\",\"email\":\"user-"
                  + id
                  + "@example.com\",\"active\":true}")
              .getBytes(StandardCharsets.UTF_8);
      response.setContentType("application/json");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
  }

  /** A scrape's response. */
  record MetricsBody(
      int status, String contentType, @Nullable String contentEncoding, byte[] body) {}

  /** Produces a scrape for a request. */
  interface Scraper {
    MetricsBody scrape(HttpServletRequest request);
  }

  /** {@code GET /metrics}. */
  static final class MetricsServlet extends HttpServlet {
    @Serial private static final long serialVersionUID = 1L;

    private final transient Scraper scraper;

    MetricsServlet(Scraper scraper) {
      this.scraper = scraper;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      MetricsBody scrape = scraper.scrape(request);
      response.setStatus(scrape.status());
      response.setContentType(scrape.contentType());
      String encoding = scrape.contentEncoding();
      if (encoding != null) {
        response.setHeader("Content-Encoding", encoding);
      }
      response.setContentLength(scrape.body().length);
      response.getOutputStream().write(scrape.body());
    }
  }
}
