package io.conea.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.RawHttp;
import io.conea.tracing.TestTelemetry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demo jar measured black-box on both ports: every request form a server answers, the ones it
 * rejects before any application code included, is counted once with the status the client
 * received, and a client that goes away is counted 499. Only raw sockets: HTTP clients refuse to
 * send most of these forms.
 */
class DemoEdgesIT {

  private static final int ROUNDS = 5;
  private static final String HOST = "Host: 127.0.0.1\r\n";

  /** The request forms, each sent whole on a connection of its own. */
  private static Map<String, byte[]> forms() {
    Map<String, String> text = new LinkedHashMap<>();
    text.put("NUL escape", "GET /api/v1/users/%00 HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("encoded slash", "GET /api/v1/users/a%2Fb HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("invalid UTF-8 escape", "GET /api/v1/users/%80 HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("bad escape", "GET /api/v1/bad%zz HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("empty segment", "GET /x//y HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("dot segments", "GET /a/../../b HTTP/1.1\r\n" + HOST + "\r\n");
    text.put("no Host", "GET /api/v1/health HTTP/1.1\r\n\r\n");
    text.put(
        "Content-Length and Transfer-Encoding",
        "POST /api/v1/jobs/x HTTP/1.1\r\n"
            + HOST
            + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    text.put("URI too long", "GET /" + "a".repeat(70_000) + " HTTP/1.1\r\n" + HOST + "\r\n");
    text.put(
        "header too long",
        "GET /api/v1/health HTTP/1.1\r\n" + HOST + "X-Big: " + "b".repeat(70_000) + "\r\n\r\n");
    text.put(
        "malformed chunked body",
        "POST /api/v1/ai/chat HTTP/1.1\r\n"
            + HOST
            + "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n");
    text.put("ok", "GET /api/v1/health HTTP/1.1\r\n" + HOST + "Connection: close\r\n\r\n");
    text.put("not found", "GET /nope HTTP/1.1\r\n" + HOST + "Connection: close\r\n\r\n");
    text.put("server error", "GET /api/v1/fail HTTP/1.1\r\n" + HOST + "Connection: close\r\n\r\n");
    Map<String, byte[]> forms = new LinkedHashMap<>();
    text.forEach((name, request) -> forms.put(name, request.getBytes(StandardCharsets.UTF_8)));
    // A TLS ClientHello's first bytes on the plain port.
    byte[] tls = new byte[171];
    ThreadLocalRandom.current().nextBytes(tls);
    System.arraycopy(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01}, 0, tls, 0, 6);
    forms.put("TLS bytes", tls);
    return forms;
  }

  @Test
  void everyAnsweredFormIsCountedOnceWithTheStatusSentAndAbortsAre499() throws Exception {
    try (DemoJarProcess demo =
        DemoJarProcess.start("demo-edges", Map.of("OTEL_TRACES_EXPORTER", "none"))) {
      int servletPort = demo.servletPort();
      int nettyPort = demo.nettyPort();
      Map<String, Integer> before = countsByStatus(servletPort);

      Map<String, Integer> received = new TreeMap<>();
      Map<String, String> byForm = new TreeMap<>();
      // Requests the client abandoned: surely 499, or 200 or 499 depending on timing.
      int sure499 = 0;
      int either = 0;
      for (int round = 0; round < ROUNDS; round++) {
        for (int port : new int[] {servletPort, nettyPort}) {
          String server = port == servletPort ? "jetty" : "netty";
          for (Map.Entry<String, byte[]> form : forms().entrySet()) {
            String status = exchange(port, form.getValue());
            received.merge(status, 1, Integer::sum);
            byForm.put(server + ": " + form.getKey(), status);
          }
          // A reset right after a request: counted 200 if answered first, 499 if read but not
          // answered, not at all if the reset came before the server read the request.
          reset(port, "GET /api/v1/health HTTP/1.1\r\n" + HOST + "\r\n");
          either++;
          // A close mid-body: the client went away.
          closeAfter(
              port,
              "POST /api/v1/ai/chat HTTP/1.1\r\n"
                  + HOST
                  + "Content-Length: 100\r\nContent-Type: application/json\r\n\r\n{\"mo");
          sure499++;
          // A close (FIN) while the answer is pending: 499 on Netty; on Jetty the status written
          // unless the write fails (conea-tracing's README, "Limit").
          closeAfter(port, "GET /api/v1/slow?ms=300 HTTP/1.1\r\n" + HOST + "\r\n");
          if (port == nettyPort) {
            sure499++;
          } else {
            either++;
          }
        }
      }
      int forms = ROUNDS * 2 * forms().size();
      int answered = forms - received.getOrDefault("none", 0);
      Map<String, Integer> delta = awaitCounted(servletPort, before, answered + sure499);

      System.out.printf(
          "demo edges: %d forms sent, %d answered, statuses received %s; counted %s (aborts: %d"
              + " surely 499, %d 200 or 499)%n",
          forms, answered, received, delta, sure499, either);
      assertThat(received).as("every form answered: %s", byForm).doesNotContainKey("none");
      for (Map.Entry<String, Integer> entry : received.entrySet()) {
        if (!entry.getKey().equals("200")) {
          assertThat(delta.getOrDefault(entry.getKey(), 0))
              .as("requests counted with status %s (by form: %s)", entry.getKey(), byForm)
              .isEqualTo(entry.getValue());
        }
      }
      assertThat(delta.getOrDefault("499", 0)).isBetween(sure499, sure499 + either);
      assertThat(delta.getOrDefault("200", 0) + delta.getOrDefault("499", 0))
          .isBetween(
              received.getOrDefault("200", 0) + sure499,
              received.getOrDefault("200", 0) + sure499 + either);
      assertThat(delta.keySet())
          .as("no status counted that no client received")
          .isSubsetOf(union(received.keySet(), "499"));
    }
  }

  private static Set<String> union(Set<String> statuses, String extra) {
    Set<String> all = new HashSet<>(statuses);
    all.add(extra);
    return all;
  }

  /** Sends one request on a connection of its own: the status line's code, or "none". */
  private static String exchange(int port, byte[] request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException closedWhileSending) {
        // The server may answer and close before reading all of an over-long request.
      }
      return statusCode(socket.getInputStream());
    } catch (SocketTimeoutException e) {
      return "none";
    }
  }

  private static String statusCode(InputStream in) {
    StringBuilder line = new StringBuilder();
    try {
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        line.append((char) b);
      }
    } catch (IOException resetAfterTheAnswer) {
      // What was read before the reset is the answer.
    }
    Matcher matcher = Pattern.compile("^HTTP/1\\.[01] (\\d{3})").matcher(line);
    return matcher.find() ? matcher.group(1) : "none";
  }

  private static void reset(int port, String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      RawHttp.send(socket, request);
      socket.setSoLinger(true, 0);
    }
  }

  private static void closeAfter(int port, String partial) throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      RawHttp.send(socket, partial);
      Thread.sleep(50);
    }
  }

  /** {@code http_requests_total} by status, the scrapes' own requests left out. */
  private static Map<String, Integer> countsByStatus(int port) throws IOException {
    String request = "GET /metrics HTTP/1.1\r\n" + HOST + "Connection: close\r\n\r\n";
    String response;
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      RawHttp.send(socket, request);
      response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    Map<String, Integer> counts = new TreeMap<>();
    TestTelemetry.requestsByStatus(response, labels -> !labels.contains("endpoint=\"/metrics\""))
        .forEach((status, count) -> counts.put(status, count.intValue()));
    return counts;
  }

  /**
   * The counts added since {@code before}, read once they reach {@code expected} (or after 10 s),
   * and again a moment later, so that a count past the expected one shows too.
   */
  private static Map<String, Integer> awaitCounted(
      int port, Map<String, Integer> before, int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (total(delta(port, before)) < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(200);
    return delta(port, before);
  }

  private static Map<String, Integer> delta(int port, Map<String, Integer> before)
      throws IOException {
    Map<String, Integer> delta = new TreeMap<>();
    countsByStatus(port)
        .forEach(
            (status, count) -> {
              int added = count - before.getOrDefault(status, 0);
              if (added != 0) {
                delta.put(status, added);
              }
            });
    return delta;
  }

  private static int total(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }
}
