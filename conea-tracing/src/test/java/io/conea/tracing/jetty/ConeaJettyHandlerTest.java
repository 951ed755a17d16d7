package io.conea.tracing.jetty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.Await;
import io.conea.tracing.HeldRequests;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.RawHttp;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.TestTelemetry;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.MDC;

/**
 * Real Jetty on loopback, raw sockets for what HTTP clients refuse to send: every request Jetty
 * answers is counted once, with the status the client received.
 */
class ConeaJettyHandlerTest {

  private static final int SENDS_PER_FORM = 3;
  private static final int ABORT_TRIES = 20;

  private static TestTelemetry telemetry;
  private static Server server;
  private static int port;
  private static Server filterOnly;
  private static int filterOnlyPort;

  /** Requests to /hold and /slow wait here until the test releases them. */
  private static final HeldRequests held = new HeldRequests();

  private static final Map<String, String> userIds = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    telemetry = TestTelemetry.alwaysOn();
    HttpServerTracing tracing =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .routes(RouteTemplates.of("/api/v1/users/{id}"))
            .build();
    server = jetty(tracing, true);
    port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    filterOnly = jetty(tracing, false);
    filterOnlyPort = ((ServerConnector) filterOnly.getConnectors()[0]).getLocalPort();
  }

  @AfterAll
  static void stop() throws Exception {
    held.release();
    server.stop();
    filterOnly.stop();
    telemetry.close();
  }

  private static Server jetty(HttpServerTracing tracing, boolean withHandler) throws Exception {
    Server jetty = new Server(new QueuedThreadPool(8, 2));
    ServerConnector connector = new ServerConnector(jetty, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder filter = new FilterHolder(ConeaTracingFilter.create(tracing));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder servlet = new ServletHolder(new DemoLikeServlet());
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/*");
    jetty.setHandler(context);
    if (withHandler) {
      ConeaJettyHandler.install(jetty, tracing);
    }
    jetty.start();
    return jetty;
  }

  /** Reads the whole body, then answers with a Content-Length, as the demo's servlet does. */
  private static final class DemoLikeServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      try (InputStream in = request.getInputStream()) {
        in.readNBytes(1 << 20);
      }
      String user = MDC.get(HttpServerTracing.MDC_USER_ID);
      if (user != null) {
        userIds.put(request.getRequestURI(), user);
      }
      if (request.getRequestURI().equals("/hold")) {
        held.entered();
        held.awaitRelease();
        write(response, 200);
        return;
      }
      if (request.getRequestURI().equals("/slow")) {
        AsyncContext async = request.startAsync();
        async.setTimeout(10_000);
        held.entered();
        new Thread(
                () -> {
                  held.awaitRelease();
                  try {
                    write((HttpServletResponse) async.getResponse(), 200);
                  } catch (IOException | RuntimeException e) {
                    // The client went away.
                  } finally {
                    async.complete();
                  }
                })
            .start();
        return;
      }
      write(response, request.getRequestURI().startsWith("/api/") ? 200 : 404);
    }
  }

  private static void write(HttpServletResponse response, int status) throws IOException {
    byte[] body = "{\"ok\":true}".getBytes(UTF_8);
    response.setStatus(status);
    response.setContentType("application/json");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  static Stream<Arguments> rejectedForms() {
    String host = "Host: a\r\nConnection: close\r\n";
    return Stream.of(
        Arguments.of("NUL escape", "GET /api/x%00y HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("encoded slash", "GET /api/x%2Fy HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("invalid UTF-8 escape", "GET /api/x%80y HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("bad escape", "GET /api/x%zz HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("empty segment", "GET /api//y HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("dot-dot above root", "GET /../b HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of("encoded dot-dot", "GET /a/%2e%2e/b HTTP/1.1\r\n" + host + "\r\n", 400),
        Arguments.of(
            "missing Host", "GET /api/v1/users/1 HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        Arguments.of(
            "Content-Length with Transfer-Encoding",
            "POST /api/v1/users/1 HTTP/1.1\r\n"
                + host
                + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400),
        Arguments.of(
            "over-long URI", "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\n" + host + "\r\n", 414),
        Arguments.of(
            "over-long header",
            "GET /api/v1/users/1 HTTP/1.1\r\n" + host + "X-Big: " + "b".repeat(10_000) + "\r\n\r\n",
            431),
        Arguments.of(
            "TLS bytes on the plain port",
            "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003abcdefgh",
            400));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejectedForms")
  void aRequestJettyRejectsIsCountedOnceWithTheStatusItSent(String form, String request, int status)
      throws Exception {
    double total = telemetry.totalRequests();
    double withStatus = telemetry.requestsWithStatus(status);
    for (int i = 0; i < SENDS_PER_FORM; i++) {
      assertThat(RawHttp.exchange(port, request)).startsWith("HTTP/1.1 " + status + " ");
    }
    Await.until(() -> telemetry.totalRequests() >= total + SENDS_PER_FORM);
    // A moment for a second count, which must not come.
    Thread.sleep(50);
    assertThat(telemetry.totalRequests()).isEqualTo(total + SENDS_PER_FORM);
    assertThat(telemetry.requestsWithStatus(status)).isEqualTo(withStatus + SENDS_PER_FORM);
    // No route, no raw path: the overflow endpoint keeps hostile paths out of the labels.
    assertThat(telemetry.scrape()).doesNotContain("endpoint=\"/api/x").doesNotContain("//y");
  }

  @Test
  void aRequestTheFilterSawIsCountedOnceUnderItsRoute() throws Exception {
    double total = telemetry.totalRequests();
    double route = telemetry.requests("GET", "/api/v1/users/{id}", "200");
    double notFound = telemetry.requests("GET", "NOT_FOUND", "404");
    String host = "Host: a\r\nConnection: close\r\n\r\n";
    assertThat(RawHttp.exchange(port, "GET /api/v1/users/7 HTTP/1.1\r\n" + host)).contains(" 200 ");
    assertThat(RawHttp.exchange(port, "GET /nothing/here HTTP/1.1\r\n" + host)).contains(" 404 ");
    Await.until(() -> telemetry.totalRequests() >= total + 2);
    Thread.sleep(50);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 2);
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(route + 1);
    assertThat(telemetry.requests("GET", "NOT_FOUND", "404")).isEqualTo(notFound + 1);
  }

  @Test
  void aResetAfterTheRequestIs499() throws Exception {
    assertClientAbortIs499(port, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n", true);
  }

  @Test
  void aResetWhileAnAsynchronousRequestIsPendingIs499EveryTime() throws Exception {
    for (int i = 0; i < ABORT_TRIES; i++) {
      held.assertClientAbortCounted(
          telemetry, port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", true, 499);
    }
  }

  /**
   * A close (FIN) while an asynchronous request is pending is counted with the status written, as
   * documented in the package: Jetty 12 reads nothing from an HTTP/1.1 connection while the
   * application holds a request whose content has ended, and writing the response succeeds, so
   * nothing on the server tells the close from a client that half-closed and still reads.
   */
  @Test
  void aCloseWhileAnAsynchronousRequestIsPendingIsCountedWithTheStatusWritten() throws Exception {
    for (int i = 0; i < ABORT_TRIES; i++) {
      held.assertClientAbortCounted(
          telemetry, port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", false, 200);
    }
  }

  @Test
  void anAsynchronousRequestAnsweredNormallyIs200() throws Exception {
    held.assertAnsweredOnReleaseIs200(
        telemetry,
        port,
        "GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 ");
  }

  @Test
  void aCloseMidBodyIs499() throws Exception {
    assertMidBodyCloseIs499(port, false);
    assertMidBodyCloseIs499(port, true);
  }

  @Test
  void withoutTheHandlerTheFilterCountsACloseMidBodyAs499() throws Exception {
    assertMidBodyCloseIs499(filterOnlyPort, false);
  }

  @Test
  void aMalformedChunkedBodyIsCountedWithThe400TheClientReceived() throws Exception {
    double total = telemetry.totalRequests();
    double bad = telemetry.requestsWithStatus(400);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      RawHttp.send(
          socket,
          "POST /api/v1/users/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "zz\r\nabc\r\n0\r\n\r\n");
      assertThat(RawHttp.statusLine(socket)).startsWith("HTTP/1.1 400 ");
      Await.until(() -> telemetry.totalRequests() >= total + 1);
    }
    Thread.sleep(50);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 1);
    assertThat(telemetry.requestsWithStatus(400)).isEqualTo(bad + 1);
  }

  @Test
  void utf8UserIdsReachTheMdcDecodedAndLatin1OnesAsTheyCame() throws Exception {
    double total = telemetry.totalRequests();
    String utf8 = "josé-日本-😀";
    String request = "GET /api/v1/users/8 HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-User-Id: ";
    byte[] head = request.getBytes(ISO_8859_1);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(head);
      out.write(utf8.getBytes(UTF_8));
      out.write("\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(RawHttp.statusLine(socket)).contains(" 200 ");
    }
    assertThat(userIds.get("/api/v1/users/8")).isEqualTo(utf8);

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(request.replace("/8", "/9").getBytes(ISO_8859_1));
      // "José" in ISO-8859-1: not valid UTF-8, so kept as the container decoded it.
      out.write(new byte[] {'J', 'o', 's', (byte) 0xe9});
      out.write("\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(RawHttp.statusLine(socket)).contains(" 200 ");
    }
    assertThat(userIds.get("/api/v1/users/9")).isEqualTo("José");
    // Counted once the responses went out: waited for, so that no other test sees them arrive.
    Await.until(() -> telemetry.totalRequests() >= total + 2);
  }

  private static void assertMidBodyCloseIs499(int port, boolean reset) throws Exception {
    double total = telemetry.totalRequests();
    double aborted = telemetry.requestsWithStatus(499);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      RawHttp.send(
          socket,
          "POST /api/v1/users/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
      Thread.sleep(50);
      if (reset) {
        socket.setSoLinger(true, 0);
      }
    }
    Await.until(() -> telemetry.totalRequests() >= total + 1);
    Thread.sleep(50);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 1);
    assertThat(telemetry.requestsWithStatus(499)).isEqualTo(aborted + 1);
  }

  /** Sends the request, waits until the servlet has it, resets the connection, then lets it go. */
  private static void assertClientAbortIs499(int port, String request, boolean reset)
      throws Exception {
    held.assertClientAbortCounted(telemetry, port, request, reset, 499);
  }
}
