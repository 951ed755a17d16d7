package io.conea.tracing.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.tracing.Await;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.TestTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class ConeaTracingFilterTest {

  private static final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor();
  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static TestTelemetry telemetry;
  private static HttpServerTracing tracing;
  private static Server server;
  private static final List<String> leaks = new CopyOnWriteArrayList<>();
  private static final List<Throwable> seenByOuterFilter = new CopyOnWriteArrayList<>();
  private static final List<Throwable> thrownByServlet = new CopyOnWriteArrayList<>();

  /** Paths whose asynchronous cycle completed, recorded after the tracing filter's listener ran. */
  private static final List<String> completed = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startServer() throws Exception {
    telemetry = TestTelemetry.alwaysOn();
    tracing =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .routes(RouteTemplates.of("/api/v1/users/{id}"))
            .build();
    server = startJetty(ConeaTracingFilter.create(tracing));
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.stop();
    telemetry.close();
  }

  @BeforeEach
  void reset() {
    telemetry.spans.reset();
    leaks.clear();
    completed.clear();
  }

  /** Jetty with an observing filter outside the tracing filter, and the test servlet. */
  static Server startJetty(Filter tracingFilter) throws Exception {
    return startJetty(tracingFilter, "/");
  }

  static Server startJetty(Filter tracingFilter, String contextPath) throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool(8, 2);
    Server jetty = new Server(pool);
    ServerConnector connector = new ServerConnector(jetty, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath(contextPath);
    context.addFilter(
        new FilterHolder(
            (Filter)
                (request, response, chain) -> {
                  recordLeaks("entry");
                  try {
                    chain.doFilter(request, response);
                  } catch (Throwable e) {
                    seenByOuterFilter.add(e);
                    throw e;
                  } finally {
                    recordLeaks("exit");
                    if (request.isAsyncStarted()) {
                      // Registered after the tracing filter's listener, so called after it.
                      request
                          .getAsyncContext()
                          .addListener(new CompletionRecorder(), request, response);
                    }
                  }
                }),
        "/*",
        EnumSet.of(DispatcherType.REQUEST));
    if (tracingFilter != null) {
      context.addFilter(new FilterHolder(tracingFilter), "/*", EnumSet.of(DispatcherType.REQUEST));
    }
    context.addServlet(new ServletHolder(new TestServlet()), "/*");
    jetty.setHandler(context);
    jetty.start();
    return jetty;
  }

  private static void recordLeaks(String where) {
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    if (mdc != null && !mdc.isEmpty()) {
      leaks.add(where + " MDC " + mdc);
    }
    if (Span.current().getSpanContext().isValid()) {
      leaks.add(where + " span " + Span.current());
    }
  }

  static int port(Server jetty) {
    return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
  }

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    return get(server, path, headers);
  }

  static HttpResponse<String> get(Server jetty, String path, String... headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(jetty) + path))
            .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void synchronousRequestIsTracedCountedAndCorrelated() throws Exception {
    double before = telemetry.requests("GET", "/api/v1/users/{id}", "200");
    HttpResponse<String> response =
        get("/api/v1/users/42?page=1", "X-User-Id", "user_123", "User-Agent", "filter-test");

    assertThat(response.statusCode()).isEqualTo(200);
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(response.body())
        .isEqualTo(
            "trace_id="
                + span.getTraceId()
                + " span="
                + span.getTraceId()
                + " user_id=user_123 path=/api/v1/users/42");
    assertThat(span.getName()).isEqualTo("GET /api/v1/users/{id}");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.query"))).isEqualTo("page=1");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("server.address")))
        .isEqualTo("127.0.0.1");
    assertThat(span.getAttributes().get(AttributeKey.longKey("server.port")))
        .isEqualTo((long) port(server));
    assertThat(span.getAttributes().get(AttributeKey.stringKey("client.address")))
        .isEqualTo("127.0.0.1");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("network.protocol.version")))
        .isEqualTo("1.1");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("user_agent.original")))
        .isEqualTo("filter-test");
    Await.until(() -> telemetry.requests("GET", "/api/v1/users/{id}", "200") == before + 1);
    assertThat(leaks).isEmpty();
  }

  @Test
  void contextPathAndPathParametersStayOutOfRoutesSpansAndMdc() throws Exception {
    Server shop = startJetty(ConeaTracingFilter.create(tracing), "/shop");
    try {
      double before = telemetry.requests("GET", "/api/v1/users/{id}", "200");
      HttpResponse<String> response = get(shop, "/shop/api/v1/users/42;jsessionid=secret?page=1");
      HttpResponse<String> atContext = get(shop, "/shop;jsessionid=secret/api/v1/users/7");

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).endsWith(" path=/api/v1/users/42");
      assertThat(atContext.body()).endsWith(" path=/api/v1/users/7");
      List<SpanData> spans = telemetry.awaitSpans(2);
      assertThat(spans)
          .extracting(s -> s.getAttributes().get(AttributeKey.stringKey("url.path")))
          .containsExactly("/api/v1/users/42", "/api/v1/users/7");
      assertThat(spans).extracting(SpanData::getName).containsOnly("GET /api/v1/users/{id}");
      assertThat(spans.get(0).getAttributes().get(AttributeKey.stringKey("url.query")))
          .isEqualTo("page=1");
      assertThat(spans).allSatisfy(s -> assertThat(s.toString()).doesNotContain("secret"));
      Await.until(() -> telemetry.requests("GET", "/api/v1/users/{id}", "200") == before + 2);
      assertThat(telemetry.scrape()).doesNotContain("secret").doesNotContain("/shop");
    } finally {
      shop.stop();
    }
  }

  @Test
  void incomingTraceparentBecomesTheParent() throws Exception {
    get(
        "/api/v1/users/1",
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(span.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
  }

  @Test
  void exceptionFromTheChainIsRecordedAs500AndRethrownUnchanged() throws Exception {
    double before = telemetry.requests("GET", "/fail", "500");
    HttpResponse<String> response = get("/fail");

    assertThat(response.statusCode()).isEqualTo(500);
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("java.lang.IllegalStateException");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(500L);
    Await.until(() -> telemetry.requests("GET", "/fail", "500") == before + 1);
    assertThat(seenByOuterFilter).isNotEmpty();
    assertThat(seenByOuterFilter.get(seenByOuterFilter.size() - 1))
        .isSameAs(thrownByServlet.get(thrownByServlet.size() - 1));
    assertThat(leaks).isEmpty();
  }

  @Test
  void sneakilyThrownCheckedExceptionIsRecordedAs500AndRethrownUnchanged() throws Exception {
    double before = telemetry.requests("GET", "/sneaky", "500");
    double totalBefore = telemetry.totalRequests();
    HttpResponse<String> response = get("/sneaky");

    assertThat(response.statusCode()).isEqualTo(500);
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo(CheckedFailure.class.getName());
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(500L);
    Await.until(() -> telemetry.requests("GET", "/sneaky", "500") == before + 1);
    assertThat(telemetry.totalRequests()).isEqualTo(totalBefore + 1);
    assertThat(seenByOuterFilter.get(seenByOuterFilter.size() - 1))
        .isInstanceOf(CheckedFailure.class)
        .isSameAs(thrownByServlet.get(thrownByServlet.size() - 1));
    assertThat(leaks).isEmpty();
  }

  @Test
  void asyncRequestEndsOnceOnCompletionWithTheFinalStatusAndTrueDuration() throws Exception {
    double before = telemetry.requests("GET", "/async", "202");
    double totalBefore = telemetry.totalRequests();
    HttpResponse<String> response = get("/async");

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.body()).startsWith("async trace_id=");
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getName()).isEqualTo("GET");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(202L);
    assertThat(span.getEndEpochNanos() - span.getStartEpochNanos())
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
    Await.until(() -> completed.contains("/async"));
    assertThat(telemetry.finishedSpans()).hasSize(1);
    assertThat(telemetry.totalRequests()).isEqualTo(totalBefore + 1);
    assertThat(telemetry.requests("GET", "/async", "202")).isEqualTo(before + 1);
    assertThat(response.body()).isEqualTo("async trace_id=" + span.getTraceId());
  }

  @Test
  void asyncTimeoutEndsOnceAsAnError() throws Exception {
    double before = telemetry.requests("GET", "/async-timeout", "500");
    double totalBefore = telemetry.totalRequests();
    HttpResponse<String> response = get("/async-timeout");

    assertThat(response.statusCode()).isEqualTo(500);
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("java.util.concurrent.TimeoutException");
    assertThat(span.getEndEpochNanos() - span.getStartEpochNanos())
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    Await.until(() -> completed.contains("/async-timeout"));
    assertThat(telemetry.finishedSpans()).hasSize(1);
    assertThat(telemetry.totalRequests()).isEqualTo(totalBefore + 1);
    assertThat(telemetry.requests("GET", "/async-timeout", "500")).isEqualTo(before + 1);
  }

  @Test
  void springsCatchAllPatternOfA404IsNotFoundNotARoute() throws Exception {
    double notFound = telemetry.requests("GET", "NOT_FOUND", "404");
    get("/static/missing.js");
    get("/static/present.css");

    Await.until(() -> telemetry.requests("GET", "NOT_FOUND", "404") == notFound + 1);
    Await.until(() -> telemetry.requests("GET", "/**", "200") >= 1);
    assertThat(telemetry.requests("GET", "/**", "404")).isZero();
  }

  @Test
  void theExceptionInsideServletExceptionsIsTheErrorType() throws Exception {
    HttpResponse<String> response = get("/wrapped");

    assertThat(response.statusCode()).isEqualTo(500);
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("java.lang.IllegalArgumentException");
    assertThat(span.getStatus().getDescription()).isEqualTo("bad input");
  }

  @Test
  void springBestMatchingPatternIsTheRouteWhenNoTemplateMatches() throws Exception {
    get("/spring/abc");

    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getName()).isEqualTo("GET /spring/{name}");
    Await.until(() -> telemetry.requests("GET", "/spring/{name}", "200") >= 1);
  }

  @Test
  void traceContextAndMdcNeverLeakFromOneRequestToTheNextOnPooledThreads() throws Exception {
    String[] paths = {"/api/v1/users/1", "/fail", "/async", "/status/503", "/spring/x"};
    for (int i = 0; i < 40; i++) {
      get(paths[i % paths.length], "X-User-Id", "u" + i, "X-Organization-Id", "o" + i);
    }
    telemetry.awaitSpans(40);
    // The servlet reports what it sees when no tracing scope is active on the thread.
    HttpResponse<String> plain = get("/mdc-outside");
    assertThat(plain.body()).isEqualTo("{}");
    assertThat(leaks).isEmpty();
  }

  /** A checked exception that the servlet's signature does not declare. */
  private static final class CheckedFailure extends Exception {
    private static final long serialVersionUID = 1L;

    CheckedFailure() {
      super("undeclared checked exception");
    }
  }

  /** Throws a checked exception past the compiler, as Lombok's @SneakyThrows does. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void throwSneakily(Throwable failure) throws T {
    throw (T) failure;
  }

  /** Notes the path of each completed asynchronous request. */
  private static final class CompletionRecorder implements AsyncListener {
    @Override
    public void onComplete(AsyncEvent event) {
      completed.add(((HttpServletRequest) event.getSuppliedRequest()).getRequestURI());
    }

    @Override
    public void onTimeout(AsyncEvent event) {}

    @Override
    public void onError(AsyncEvent event) {}

    @Override
    public void onStartAsync(AsyncEvent event) {}
  }

  /** The application: reports what it sees of the trace and the MDC. */
  private static final class TestServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException, ServletException {
      // The path within the application, so that any context path serves the same routes.
      String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
      if (path.startsWith("/api/v1/users/")) {
        response
            .getWriter()
            .write(
                "trace_id="
                    + MDC.get("trace_id")
                    + " span="
                    + Span.current().getSpanContext().getTraceId()
                    + " user_id="
                    + MDC.get("user_id")
                    + " path="
                    + MDC.get("path"));
      } else if (path.equals("/fail")) {
        IllegalStateException failure = new IllegalStateException("boom");
        thrownByServlet.add(failure);
        throw failure;
      } else if (path.equals("/sneaky")) {
        CheckedFailure failure = new CheckedFailure();
        thrownByServlet.add(failure);
        throwSneakily(failure);
      } else if (path.startsWith("/status/")) {
        response.setStatus(Integer.parseInt(path.substring("/status/".length())));
      } else if (path.equals("/async")) {
        AsyncContext async = request.startAsync();
        String traceId = MDC.get("trace_id");
        executor.schedule(
            () -> {
              try {
                HttpServletResponse asyncResponse = (HttpServletResponse) async.getResponse();
                asyncResponse.setStatus(202);
                asyncResponse.getWriter().write("async trace_id=" + traceId);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              } finally {
                async.complete();
              }
            },
            100,
            TimeUnit.MILLISECONDS);
      } else if (path.equals("/async-timeout")) {
        AsyncContext async = request.startAsync();
        async.setTimeout(200);
      } else if (path.startsWith("/spring/")) {
        request.setAttribute(ConeaTracingFilter.SPRING_BEST_MATCHING_PATTERN, "/spring/{name}");
      } else if (path.startsWith("/static/")) {
        // Spring's static-resource handler, which takes every request no controller took.
        request.setAttribute(ConeaTracingFilter.SPRING_BEST_MATCHING_PATTERN, "/**");
        response.setStatus(path.equals("/static/present.css") ? 200 : 404);
      } else if (path.equals("/wrapped")) {
        IllegalArgumentException failure = new IllegalArgumentException("bad input");
        thrownByServlet.add(failure);
        // As Spring MVC's DispatcherServlet wraps what a handler throws.
        throw new ServletException(
            "Request processing failed: " + failure, new ServletException("nested", failure));
      } else if (path.equals("/mdc-outside")) {
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        mdc = mdc == null ? Map.of() : mdc;
        // Only what the tracing filter put would be there: this path is not excluded from it,
        // so remove the current request's own values and report anything else.
        Map<String, String> others = new java.util.TreeMap<>(mdc);
        others.keySet().removeAll(List.of("trace_id", "span_id", "method", "path"));
        response.getWriter().write(others.toString());
      } else {
        response.setStatus(404);
      }
    }
  }

  @Test
  void aContainerOlderThanServlet6IsRefusedAtStartUp() throws Exception {
    ConeaTracingFilter filter =
        ConeaTracingFilter.create(
            HttpServerTracing.create(
                io.opentelemetry.api.OpenTelemetry.noop(),
                ConeaMetrics.create(new SimpleMeterRegistry())));

    assertThatThrownBy(() -> filter.init(filterConfig(5, 0)))
        .isInstanceOf(ServletException.class)
        .hasMessage(
            "ConeaTracingFilter needs a Jakarta Servlet 6.0 container or newer, but this one"
                + " implements Servlet 5.0");
    filter.init(filterConfig(6, 0));
    filter.init(filterConfig(6, 1));
  }

  /** A filter configuration in a container that states the given Servlet version. */
  private static FilterConfig filterConfig(int major, int minor) {
    ServletContext context =
        (ServletContext)
            Proxy.newProxyInstance(
                ConeaTracingFilterTest.class.getClassLoader(),
                new Class<?>[] {ServletContext.class},
                (proxy, method, args) ->
                    switch (method.getName()) {
                      case "getMajorVersion" -> major;
                      case "getMinorVersion" -> minor;
                      default -> throw new UnsupportedOperationException(method.getName());
                    });
    return (FilterConfig)
        Proxy.newProxyInstance(
            ConeaTracingFilterTest.class.getClassLoader(),
            new Class<?>[] {FilterConfig.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getServletContext")) {
                return context;
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
