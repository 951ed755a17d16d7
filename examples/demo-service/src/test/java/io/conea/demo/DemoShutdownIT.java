package io.conea.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conea.tracing.KeepAliveClient;
import io.conea.tracing.KeepAliveClient.End;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    DemoJarProcess demo = DemoJarProcess.start("demo-shutdown", Map.of());
    Process process = demo.process();
    int servletPort = demo.servletPort();
    int nettyPort = demo.nettyPort();
    Path stdoutFile = demo.stdout();
    ExecutorService threads = Executors.newFixedThreadPool(2 * CLIENTS_PER_PORT);
    List<Client> clients = new ArrayList<>();
    long exitMillis;
    try {
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

  /** A keep-alive client whose report tells when its connection ended, from SIGTERM. */
  private static final class Client extends KeepAliveClient {
    Client(int port, String target) {
      super(port, target, 20_000, false);
    }

    @Override
    public String toString() {
      return super.toString() + " ended " + (endedAt - SIGTERM.get()) / 1000 + " us after SIGTERM";
    }
  }
}
