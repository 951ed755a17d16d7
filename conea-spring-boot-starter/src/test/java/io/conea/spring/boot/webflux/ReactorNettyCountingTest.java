package io.conea.spring.boot.webflux;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.HttpServerTracing;
import io.opentelemetry.api.OpenTelemetry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real Reactor Netty server with Spring's WebFlux adapter and {@link ConeaWebFilter}: what it
 * rejects before the filter, sent over raw sockets, is counted once with the status the client
 * read; what the filter counts is not counted again.
 */
class ReactorNettyCountingTest {

  private static final Pattern REQUESTS =
      Pattern.compile("(?m)^http_requests_total\\{(.*)} (\\S+)$");
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");

  private PrometheusMetrics prometheus;
  private DisposableServer server;

  @BeforeEach
  void start() {
    prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
    HttpServerTracing tracing =
        HttpServerTracing.builder(
                OpenTelemetry.noop(), ConeaMetrics.builder(prometheus.registry()).build())
            .build();
    HttpHandler handler =
        WebHttpHandlerBuilder.webHandler(
                exchange -> {
                  if (!exchange.getRequest().getPath().value().equals("/ok")) {
                    exchange.getResponse().setStatusCode(HttpStatus.NOT_FOUND);
                  }
                  return exchange.getResponse().setComplete();
                })
            .filter(ConeaWebFilter.create(tracing))
            .build();
    server =
        ReactorNettyCounting.install(HttpServer.create().host("127.0.0.1").port(0), tracing)
            .handle(new ReactorHttpHandlerAdapter(handler))
            .bindNow();
  }

  @AfterEach
  void stop() {
    server.disposeNow();
    prometheus.close();
  }

  @Test
  void requestsRejectedBeforeTheFilterAreCountedOnceWithTheStatusTheClientRead() throws Exception {
    List<Integer> seen = new ArrayList<>();
    // A path Reactor Netty cannot decode.
    seen.addAll(send("GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // Not a request line at all.
    seen.addAll(send("NOT A REQUEST\r\n\r\n"));
    // A request line past the 4096-byte limit.
    seen.addAll(send("GET /" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // A header block past the 8 KB limit.
    seen.addAll(
        send("GET /ok HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(10_000) + "\r\n\r\n"));
    // Control characters in a header name.
    seen.addAll(send("GET /ok HTTP/1.1\r\nHost: localhost\r\nX\u0001Bad: 1\r\n\r\n"));

    assertThat(seen).hasSize(5);
    assertThat(seen).allSatisfy(status -> assertThat(status).isBetween(400, 499));
    assertThat(seen).contains(414, 431);
    Map<Integer, Long> expected = countByStatus(seen);
    awaitRequests(expected);
    assertThat(requestsByStatus()).isEqualTo(toDoubles(expected));
    // Matched no route: the hostile paths are not kept as label values.
    assertThat(prometheus.registry().scrape())
        .contains("endpoint=\"_OTHER\"")
        .doesNotContain("%zz");
  }

  @Test
  void requestsTheFilterStartedAreNotCountedAgainEvenWhenPipelinedBeforeARejectedOne()
      throws Exception {
    List<Integer> first = sendKeepAlive("GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n");
    List<Integer> pipelined =
        send(
            "GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + "GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n");

    assertThat(first).containsExactly(200);
    assertThat(pipelined).containsExactly(200, 404, 400);
    Map<Integer, Long> expected = Map.of(200, 2L, 404, 1L, 400, 1L);
    awaitRequests(expected);
    assertThat(requestsByStatus()).isEqualTo(toDoubles(expected));
    assertThat(prometheus.registry().scrape())
        .contains("endpoint=\"NOT_FOUND\"")
        .contains("endpoint=\"_OTHER\"");
  }

  /** Sends {@code request} and reads every response until the server closes the connection. */
  private List<Integer> send(String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      socket.shutdownOutput();
      return statuses(readAll(socket.getInputStream()));
    }
  }

  /** Sends one request on a connection that stays open, reading its one empty-bodied response. */
  private List<Integer> sendKeepAlive(String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.write(b);
      }
      return statuses(head.toString(StandardCharsets.ISO_8859_1));
    }
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
      all.write(buffer, 0, n);
    }
    return all.toString(StandardCharsets.ISO_8859_1);
  }

  private static List<Integer> statuses(String responses) {
    List<Integer> statuses = new ArrayList<>();
    Matcher matcher = STATUS_LINE.matcher(responses);
    while (matcher.find()) {
      statuses.add(Integer.parseInt(matcher.group(1)));
    }
    return statuses;
  }

  private static Map<Integer, Long> countByStatus(List<Integer> statuses) {
    Map<Integer, Long> counts = new HashMap<>();
    statuses.forEach(status -> counts.merge(status, 1L, Long::sum));
    return counts;
  }

  private static Map<Integer, Double> toDoubles(Map<Integer, Long> counts) {
    Map<Integer, Double> doubles = new HashMap<>();
    counts.forEach((status, count) -> doubles.put(status, count.doubleValue()));
    return doubles;
  }

  /** Waits for the filter's counts, which it records when the exchange completes. */
  private void awaitRequests(Map<Integer, Long> expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!requestsByStatus().equals(toDoubles(expected)) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
  }

  /** The sum of {@code http_requests_total} by status, from a real scrape. */
  private Map<Integer, Double> requestsByStatus() {
    Map<Integer, Double> byStatus = new HashMap<>();
    Matcher matcher = REQUESTS.matcher(prometheus.registry().scrape());
    while (matcher.find()) {
      for (String label : matcher.group(1).split(",")) {
        if (label.startsWith("status=\"")) {
          int status = Integer.parseInt(label.substring(8, label.length() - 1));
          byStatus.merge(status, Double.parseDouble(matcher.group(2)), Double::sum);
        }
      }
    }
    return byStatus;
  }
}
