package io.conea.demo;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM to the packaged demo under a bounded keep-alive load on both ports: no request the
 * servers accepted is lost, and the process exits within the drain and flush bounds.
 */
class DemoShutdownIT {

  private static final int CLIENTS_PER_PORT = 8;
  private static final java.util.concurrent.atomic.AtomicLong SIGTERM =
      new java.util.concurrent.atomic.AtomicLong();

  @Test
  void sigtermUnderKeepAliveLoadAnswersEveryAcceptedRequestAndExitsWithinTheBound()
      throws Exception {
    Path jar = Path.of(System.getProperty("demo.jar", "target/conea-demo.jar"));
    assertThat(jar).exists();
    int servletPort = freePort();
    int nettyPort = freePort();
    ProcessBuilder builder =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            jar.toString());
    builder.environment().put("CONEA_DEMO_SERVLET_PORT", Integer.toString(servletPort));
    builder.environment().put("CONEA_DEMO_NETTY_PORT", Integer.toString(nettyPort));
    builder.environment().remove("CONEA_DEMO_DRAIN_SECONDS");
    builder.environment().remove("OTEL_TRACES_EXPORTER");
    builder.environment().remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    builder.redirectError(Path.of("target", "demo-shutdown-stderr.log").toFile());
    Path stdoutFile = Path.of("target", "demo-shutdown-stdout.log");
    builder.redirectOutput(stdoutFile.toFile());
    Process process = builder.start();
    ExecutorService threads = Executors.newFixedThreadPool(2 * CLIENTS_PER_PORT);
    List<Client> clients = new ArrayList<>();
    long exitMillis;
    try {
      awaitHealthy(servletPort);
      awaitHealthy(nettyPort);
      List<Future<?>> running = new ArrayList<>();
      for (int port : new int[] {servletPort, nettyPort}) {
        for (int i = 0; i < CLIENTS_PER_PORT; i++) {
          // A quarter of the clients ask for slow answers: those are in flight at SIGTERM.
          Client client =
              new Client(port, i % 4 == 0 ? "/api/v1/slow?ms=400" : "/api/v1/users/" + i);
          clients.add(client);
          running.add(threads.submit(client));
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!clients.stream().allMatch(c -> c.complete >= 3)) {
        assertThat(System.nanoTime()).as("all clients under way").isLessThan(deadline);
        assertThat(clients).allSatisfy(c -> assertThat(c.broken).isNull());
        Thread.sleep(20);
      }

      long sigterm = System.nanoTime();
      SIGTERM.set(sigterm);
      process.destroy(); // SIGTERM
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited within 30 s").isTrue();
      exitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm);
      for (Future<?> client : running) {
        client.get(10, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
      process.destroyForcibly();
    }

    assertThat(process.exitValue()).isIn(0, 143);
    assertThat(clients).allSatisfy(c -> assertThat(c.broken).as(c.toString()).isNull());
    // Default drain bound 10 s, flush bound 5 s: with nothing stuck, far less.
    assertThat(exitMillis).as("SIGTERM to exit, ms").isLessThan(15_000);

    // Each request a server accepted is in the access log once; all were answered 200.
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> accessLines = new ArrayList<>();
    JsonNode nettyDrained = null;
    JsonNode jettyDrained = null;
    for (String line : Files.readAllLines(stdoutFile, StandardCharsets.UTF_8)) {
      JsonNode event = json.readTree(line);
      String path = event.path("path").asText();
      if (event.has("status")
          && (path.startsWith("/api/v1/users/") || path.startsWith("/api/v1/slow"))
          && event.path("message").asText().startsWith("GET ")) {
        accessLines.add(event);
      }
      if (event.path("message").asText().equals("Netty connections drained")) {
        nettyDrained = event;
      }
      if (event.path("message").asText().equals("Jetty connections drained")) {
        jettyDrained = event;
      }
    }
    int answered = clients.stream().mapToInt(c -> c.complete).sum();
    long unanswered = clients.stream().filter(c -> c.end == End.NOT_ACCEPTED).count();
    System.out.printf(
        Locale.ROOT,
        "demo SIGTERM under load: %d clients, %d requests answered, %d access-log lines,"
            + " %d/%d clients sent a request that got no answer, SIGTERM to exit %d ms;"
            + " jetty drain: %s; netty drain: %s%n",
        clients.size(),
        answered,
        accessLines.size(),
        unanswered,
        clients.size(),
        exitMillis,
        jettyDrained == null ? null : jettyDrained.path("metadata"),
        nettyDrained == null ? null : nettyDrained.path("metadata"));
    assertThat(accessLines).allSatisfy(e -> assertThat(e.path("status").asInt()).isEqualTo(200));
    assertThat(accessLines).hasSize(answered);
    assertThat(nettyDrained).as("the Netty drain's figures are logged").isNotNull();
    assertThat(jettyDrained).as("the Jetty drain's figures are logged").isNotNull();

    // The clients of both ports: every request sent was answered; slow requests in flight at
    // SIGTERM were answered with Connection: close; a connection was closed only after a response
    // that said so, or while its client sent nothing; the ports refused reconnections.
    assertThat(clients)
        .allSatisfy(
            c ->
                assertThat(c.end)
                    .as(c.toString())
                    .isIn(End.CLOSED_AFTER_CONNECTION_CLOSE, End.IDLE_CLOSED));
    assertThat(clients)
        .filteredOn(c -> c.target.contains("slow"))
        .allSatisfy(
            c -> assertThat(c.end).as(c.toString()).isEqualTo(End.CLOSED_AFTER_CONNECTION_CLOSE));
    assertThat(clients).allSatisfy(c -> assertThat(c.refusedAfterwards).as(c.toString()).isTrue());
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void awaitHealthy(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(5_000);
        send(socket, "/api/v1/health");
        Response response = readResponse(socket.getInputStream());
        if (response != null && response.status == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("demo did not answer on port " + port + " within 60 s");
      }
      Thread.sleep(200);
    }
  }

  private static void send(Socket socket, String target) throws IOException {
    socket
        .getOutputStream()
        .write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(US_ASCII));
    socket.getOutputStream().flush();
  }

  /** How a client's keep-alive connection ended. */
  enum End {
    /** Its last response said {@code Connection: close}, and the connection then closed. */
    CLOSED_AFTER_CONNECTION_CLOSE,
    /** The server closed it between requests, and the client saw so before sending another. */
    IDLE_CLOSED,
    /** The client sent a request and the connection ended without one byte of a response. */
    NOT_ACCEPTED
  }

  /** A keep-alive client sending one request after the other until its connection ends. */
  private static final class Client implements Runnable {
    final int port;
    final String target;
    volatile int complete;
    volatile End end;
    volatile String broken;
    volatile boolean refusedAfterwards;
    volatile long endedAt;
    volatile String how;

    Client(int port, String target) {
      this.port = port;
      this.target = target;
    }

    @Override
    public String toString() {
      return "client(port="
          + port
          + ", "
          + target
          + ", complete="
          + complete
          + ", end="
          + end
          + ", broken="
          + broken
          + ", how="
          + how
          + ", endedAt="
          + (endedAt - SIGTERM.get()) / 1000
          + " us after SIGTERM"
          + ")";
    }

    @Override
    public void run() {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(20_000);
        InputStream in = socket.getInputStream();
        boolean reused = false;
        while (true) {
          if (reused && closedByServer(socket)) {
            end = End.IDLE_CLOSED;
            break;
          }
          Response response;
          try {
            send(socket, target);
            response = readResponse(in);
          } catch (SocketException reset) {
            response = null; // reset with nothing received
            how = reset.toString();
          }
          endedAt = System.nanoTime();
          if (response == null) {
            end = End.NOT_ACCEPTED;
            break;
          }
          if (response.status != 200) {
            broken = "status " + response.status;
            return;
          }
          complete++;
          if (response.connectionClose) {
            if (in.read() != -1) {
              broken = "bytes after a response that said Connection: close";
              return;
            }
            end = End.CLOSED_AFTER_CONNECTION_CLOSE;
            break;
          }
          reused = true;
        }
      } catch (IOException | RuntimeException e) {
        broken = e.toString();
        return;
      }
      try (Socket again = new Socket(InetAddress.getLoopbackAddress(), port)) {
        broken = "connected again after the shutdown started: " + again;
      } catch (ConnectException refused) {
        refusedAfterwards = true;
      } catch (IOException e) {
        broken = "reconnecting: " + e;
      }
    }

    /** Whether the server has closed the connection, seen without sending (a stale check). */
    private static boolean closedByServer(Socket socket) throws IOException {
      socket.setSoTimeout(1);
      try {
        return socket.getInputStream().read() == -1;
      } catch (SocketTimeoutException open) {
        return false;
      } finally {
        socket.setSoTimeout(20_000);
      }
    }
  }

  /** One response read in full. */
  private record Response(int status, boolean connectionClose) {}

  /**
   * Reads one response with a Content-Length body; null when the connection ends before its first
   * byte; throws when it ends in the middle.
   */
  private static Response readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new IOException("connection closed in the middle of a response head: " + head);
      }
      head.write(b);
      byte[] bytes = head.toByteArray();
      int n = bytes.length;
      if (n >= 4
          && bytes[n - 4] == '\r'
          && bytes[n - 3] == '\n'
          && bytes[n - 2] == '\r'
          && bytes[n - 1] == '\n') {
        break;
      }
    }
    String text = head.toString(US_ASCII).toLowerCase(Locale.ROOT);
    int status = Integer.parseInt(text.substring(9, 12));
    int length = 0;
    boolean close = false;
    for (String line : text.split("\r\n")) {
      if (line.startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      } else if (line.startsWith("connection:")) {
        close = line.contains("close");
      }
    }
    if (in.readNBytes(length).length < length) {
      throw new IOException("connection closed in the middle of a response body");
    }
    return new Response(status, close);
  }
}
