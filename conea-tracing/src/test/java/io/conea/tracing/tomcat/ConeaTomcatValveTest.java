package io.conea.tracing.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.Await;
import io.conea.tracing.HeldRequests;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.RawHttp;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.TestTelemetry;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real embedded Tomcat on loopback, raw sockets for what HTTP clients refuse to send: every request
 * Tomcat answers is counted once, with the status the client received, whether the filter saw it or
 * Tomcat rejected it first.
 */
class ConeaTomcatValveTest {

  private static final int ABORT_TRIES = 20;

  private static TestTelemetry telemetry;

  /** Requests to /hold and /slow wait here until the test releases them. */
  private static final HeldRequests held = new HeldRequests();

  private static Tomcat tomcat;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    telemetry = TestTelemetry.alwaysOn();
    HttpServerTracing tracing =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .routes(RouteTemplates.of("/api/v1/users/{id}"))
            .build();
    Path base = Files.createTempDirectory("conea-tomcat");
    tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    Context context = tomcat.addContext("", base.toString());
    Tomcat.addServlet(
            context,
            "api",
            new HttpServlet() {
              private static final long serialVersionUID = 1L;

              @Override
              protected void doGet(HttpServletRequest request, HttpServletResponse response)
                  throws IOException {
                if (request.getRequestURI().equals("/hold")) {
                  // Answered once released; the body stays in Tomcat's buffer until the final
                  // flush, after the filter.
                  held.entered();
                  held.awaitRelease();
                } else if (request.getRequestURI().equals("/slow")) {
                  AsyncContext async = request.startAsync();
                  async.setTimeout(10_000);
                  held.entered();
                  new Thread(
                          () -> {
                            held.awaitRelease();
                            try {
                              async.getResponse().getWriter().write("ok");
                            } catch (IOException | RuntimeException e) {
                              // The client went away.
                            } finally {
                              async.complete();
                            }
                          })
                      .start();
                  return;
                }
                response.setStatus(200);
                response.getWriter().write("ok");
              }
            })
        .addMapping("/*");
    ((org.apache.catalina.Wrapper) context.findChild("api")).setAsyncSupported(true);
    FilterDef filter = new FilterDef();
    filter.setAsyncSupported("true");
    filter.setFilterName("conea");
    filter.setFilter(ConeaTracingFilter.create(tracing));
    context.addFilterDef(filter);
    FilterMap mapping = new FilterMap();
    mapping.setFilterName("conea");
    mapping.addURLPattern("/*");
    context.addFilterMap(mapping);
    tomcat.getEngine().getPipeline().addValve(ConeaTomcatValve.create(tracing));
    tomcat.start();
    port = connector.getLocalPort();
  }

  @AfterAll
  static void stop() throws Exception {
    held.release();
    if (tomcat != null) {
      tomcat.stop();
      tomcat.destroy();
    }
    if (telemetry != null) {
      telemetry.close();
    }
  }

  static Stream<Arguments> rejected() {
    String header = "X-Long: " + "x".repeat(20_000) + "\r\n";
    return Stream.of(
        Arguments.of("invalid character in the URI", "GET /a{b HTTP/1.1\r\nHost: x\r\n"),
        Arguments.of("bad % escape", "GET /a%zz HTTP/1.1\r\nHost: x\r\n"),
        Arguments.of("encoded NUL", "GET /a%00b HTTP/1.1\r\nHost: x\r\n"),
        Arguments.of("invalid header name", "GET /ok HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n"),
        Arguments.of("missing Host", "GET /ok HTTP/1.1\r\n"),
        Arguments.of("over-long header", "GET /ok HTTP/1.1\r\nHost: x\r\n" + header),
        Arguments.of(
            "TLS bytes", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejected")
  void aRequestTomcatRejectsIsCountedOnceWithTheStatusSent(String form, String request)
      throws Exception {
    double before = telemetry.totalRequests();
    String statusLine = RawHttp.exchange(port, request + "Connection: close\r\n\r\n");
    assertThat(statusLine).as(form).startsWith("HTTP/1.1 4");
    String status = statusLine.substring(9, 12);

    Await.until(() -> telemetry.totalRequests() == before + 1);
    assertThat(telemetry.totalRequests()).as(form).isEqualTo(before + 1);
    assertThat(
            telemetry.requests("_OTHER", "_OTHER", status)
                + telemetry.requests("GET", "_OTHER", status)
                + telemetry.requests("GET", "NOT_FOUND", status))
        .as(form + ": counted with the status sent, " + status + "\n" + telemetry.scrape())
        .isPositive();
  }

  @Test
  void aRequestTheFilterSawIsNotCountedAgain() throws Exception {
    double before = telemetry.requests("GET", "/api/v1/users/{id}", "200");
    double total = telemetry.totalRequests();
    assertThat(
            RawHttp.exchange(
                port, "GET /api/v1/users/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200");

    Await.until(() -> telemetry.requests("GET", "/api/v1/users/{id}", "200") == before + 1);
    // Any second count would land with the first, as Tomcat logs after the response.
    Thread.sleep(200);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 1);
  }

  @Test
  void aResetMetOnlyAtTheFinalFlushIs499EveryTime() throws Exception {
    for (int i = 0; i < ABORT_TRIES; i++) {
      held.assertClientAbortCounted(
          telemetry, port, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", true, 499);
    }
  }

  @Test
  void aResetDuringAnAsynchronousWaitIs499EveryTime() throws Exception {
    for (int i = 0; i < ABORT_TRIES; i++) {
      held.assertClientAbortCounted(
          telemetry, port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", true, 499);
    }
  }

  @Test
  void aCloseDuringAnAsynchronousWaitIsCountedWithTheStatusWritten() throws Exception {
    for (int i = 0; i < ABORT_TRIES; i++) {
      held.assertClientAbortCounted(
          telemetry, port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", false, 200);
    }
  }

  @Test
  void anAsynchronousRequestAnsweredNormallyIs200() throws Exception {
    held.assertAnsweredOnReleaseIs200(
        telemetry,
        port,
        "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200");
  }
}
