package io.conea.demo;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo's Jetty port, black-box over raw sockets: requests Jetty rejects before the servlet,
 * client resets and closes, malformed bodies and UTF-8 header values, each counted once with the
 * status the client received.
 */
class JettyEdgeCasesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SENDS = 5;
  private static Demo demo;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    demo = Demo.start(new Demo.Settings("127.0.0.1", 0, 0, false, Map.of()));
    port = demo.servletPort();
  }

  @AfterAll
  static void stop() {
    demo.close();
  }

  @Test
  void everyRequestJettyRejectsIsCountedOnceWithTheStatusItSent() throws Exception {
    String close = "Host: a\r\nConnection: close\r\n";
    String[][] forms = {
      {"GET /api/v1/users/%00 HTTP/1.1\r\n" + close + "\r\n", "400"},
      {"GET /api/v1/users/%2F HTTP/1.1\r\n" + close + "\r\n", "400"},
      {"GET /api/v1/users/%80 HTTP/1.1\r\n" + close + "\r\n", "400"},
      {"GET /x//y HTTP/1.1\r\n" + close + "\r\n", "400"},
      {"GET /../etc/passwd HTTP/1.1\r\n" + close + "\r\n", "400"},
      {"GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n", "400"},
      {
        "POST /api/v1/chat HTTP/1.1\r\n"
            + close
            + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "400"
      },
      {"GET /" + "a".repeat(10_000) + " HTTP/1.1\r\n" + close + "\r\n", "414"},
      {
        "GET /api/v1/health HTTP/1.1\r\n" + close + "X-A: " + "b".repeat(10_000) + "\r\n\r\n", "431"
      },
      {"\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003abcdefgh", "400"},
    };
    for (String[] form : forms) {
      String status = form[1];
      double total = total(scrape());
      double withStatus = withStatus(scrape(), status);
      for (int i = 0; i < SENDS; i++) {
        assertThat(exchange(form[0])).startsWith("HTTP/1.1 " + status + " ");
      }
      String after = awaitTotal(total + SENDS);
      assertThat(total(after)).as(form[0]).isEqualTo(total + SENDS);
      assertThat(withStatus(after, status)).as(form[0]).isEqualTo(withStatus + SENDS);
    }
  }

  @Test
  void aResetWhileSlowIsPendingIs499() throws Exception {
    double total = total(scrape());
    double aborted = withStatus(scrape(), "499");
    try (Socket socket = new Socket("127.0.0.1", port)) {
      send(socket, "GET /api/v1/slow?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n");
      Thread.sleep(100);
      socket.setSoLinger(true, 0);
    }
    String after = awaitTotal(total + 1);
    assertThat(total(after)).isEqualTo(total + 1);
    assertThat(withStatus(after, "499")).isEqualTo(aborted + 1);
  }

  @Test
  void aCloseMidBodyIs499AndAMalformedChunkedBodyIs400() throws Exception {
    String before = scrape();
    double total = total(before);
    double aborted = withStatus(before, "499");
    double errors = withStatus(before, "500");
    try (Socket socket = new Socket("127.0.0.1", port)) {
      send(socket, "POST /api/v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{\"mes");
      Thread.sleep(50);
    }
    String after = awaitTotal(total + 1);
    assertThat(total(after)).isEqualTo(total + 1);
    assertThat(withStatus(after, "499")).isEqualTo(aborted + 1);

    double bad = withStatus(after, "400");
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      send(
          socket,
          "POST /api/v1/chat HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n");
      assertThat(statusLine(socket)).startsWith("HTTP/1.1 400 ");
      after = awaitTotal(total + 2);
    }
    assertThat(total(after)).isEqualTo(total + 2);
    assertThat(withStatus(after, "400")).isEqualTo(bad + 1);
    assertThat(withStatus(after, "500")).isEqualTo(errors);
  }

  @Test
  void aUtf8UserIdReachesTheJsonLogLineIntact() throws Exception {
    String user = "José-日本-😀";
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, UTF_8));
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /api/v1/users/utf8probe HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-User-Id: "
              .getBytes(ISO_8859_1));
      out.write(user.getBytes(UTF_8));
      out.write("\r\n\r\n".getBytes(ISO_8859_1));
      assertThat(statusLine(socket)).contains(" 200 ");
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (accessLine(captured) == null && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    } finally {
      System.setOut(stdout);
    }
    JsonNode line = accessLine(captured);
    assertThat(line).as(captured.toString(UTF_8)).isNotNull();
    assertThat(line.get("user_id").asText()).isEqualTo(user);
  }

  /** The access-log line of the probe request, parsed, or null while there is none. */
  private static JsonNode accessLine(ByteArrayOutputStream captured) throws IOException {
    for (String line : captured.toString(UTF_8).split("\n")) {
      if (line.contains("utf8probe") && line.startsWith("{")) {
        JsonNode node = JSON.readTree(line);
        if (node.has("user_id") && node.has("status")) {
          return node;
        }
      }
    }
    return null;
  }

  private static void send(Socket socket, String request) throws IOException {
    socket.getOutputStream().write(request.getBytes(ISO_8859_1));
    socket.getOutputStream().flush();
  }

  private static String statusLine(Socket socket) throws IOException {
    String line =
        new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1)).readLine();
    return line == null ? "" : line;
  }

  private static String exchange(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      send(socket, request);
      return statusLine(socket);
    }
  }

  private static String scrape() throws IOException {
    String response = fetch("GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  private static String fetch(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      send(socket, request);
      return new String(socket.getInputStream().readAllBytes(), UTF_8);
    }
  }

  /** Polls the scrape until {@link #total} reaches {@code expected}, then a moment more. */
  private static String awaitTotal(double expected) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (total(scrape()) < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    // A second count of the same request would come within this moment.
    Thread.sleep(100);
    return scrape();
  }

  /** The sum of http_requests_total, without the scrapes', which count themselves. */
  private static double total(String scrape) {
    return sum(scrape, labels -> !labels.contains("endpoint=\"/metrics\""));
  }

  private static double withStatus(String scrape, String status) {
    return sum(scrape, labels -> labels.contains("status=\"" + status + "\""));
  }

  private static double sum(String scrape, java.util.function.Predicate<String> labels) {
    Matcher matcher = Pattern.compile("(?m)^http_requests_total\\{(.*)} (\\S+)$").matcher(scrape);
    double sum = 0;
    while (matcher.find()) {
      if (labels.test(matcher.group(1))) {
        sum += Double.parseDouble(matcher.group(2));
      }
    }
    return sum;
  }
}
