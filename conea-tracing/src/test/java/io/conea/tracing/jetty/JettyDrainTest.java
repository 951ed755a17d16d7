package io.conea.tracing.jetty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.KeepAliveClient;
import io.conea.tracing.KeepAliveClient.End;
import io.conea.tracing.RawHttp;
import io.conea.tracing.RawResponse;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

/**
 * Real Jetty on loopback, raw keep-alive clients sending one request after the other while the
 * drain runs: every request sent is answered, and every connection ends either after a response
 * that said {@code Connection: close} or idle, before the client sent anything more.
 */
class JettyDrainTest {

  private static final int CLIENTS = 12;
  private static final int ROUNDS = 5;

  @Test
  void drainUnderKeepAliveLoadAnswersEveryRequestSent() throws Exception {
    List<String> figures = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      Server server = server();
      JettyDrain drain = JettyDrain.install(server);
      server.start();
      int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
      ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
      List<KeepAliveClient> clients = new ArrayList<>();
      JettyDrain.Result result;
      try {
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          // A quarter of the clients ask for slow answers: those are in flight at the drain.
          KeepAliveClient client =
              new KeepAliveClient(port, i % 4 == 0 ? "/slow" : "/fast/" + i, 20_000, true);
          clients.add(client);
          running.add(threads.submit(client));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!clients.stream().allMatch(c -> c.complete >= 3)) {
          assertThat(System.nanoTime()).as("all clients under way").isLessThan(deadline);
          assertThat(clients).allSatisfy(c -> assertThat(c.broken).isNull());
          Thread.sleep(5);
        }
        result = drain.drain(Duration.ofSeconds(5));
        for (Future<?> client : running) {
          client.get(10, TimeUnit.SECONDS);
        }
      } finally {
        threads.shutdownNow();
        server.stop();
      }
      long unanswered = clients.stream().filter(c -> c.end == End.NOT_ACCEPTED).count();
      figures.add(
          String.format(
              Locale.ROOT,
              "round %d: %d/%d clients unanswered, %s",
              round,
              unanswered,
              CLIENTS,
              result));
      assertThat(clients)
          .allSatisfy(
              c -> {
                assertThat(c.broken).as(c.toString()).isNull();
                assertThat(c.end)
                    .as(c.toString())
                    .isIn(End.CLOSED_AFTER_CONNECTION_CLOSE, End.IDLE_CLOSED);
                assertThat(c.refusedAfterwards).as(c.toString()).isTrue();
              });
      assertThat(clients)
          .filteredOn(c -> c.target.equals("/slow"))
          .allSatisfy(
              c -> assertThat(c.end).as(c.toString()).isEqualTo(End.CLOSED_AFTER_CONNECTION_CLOSE));
      assertThat(result.completed()).isGreaterThanOrEqualTo(Math.max(1, result.inFlightAtStart()));
      assertThat(result.abandoned()).isZero();
      assertThat(result.forcedCloses()).isZero();
      assertThat(result.elapsed()).isLessThan(Duration.ofSeconds(5));
      assertThat(drain.openConnections()).isZero();
    }
    figures.forEach(System.out::println);
  }

  @Test
  void anIdleConnectionIsClosedAfterTheGraceAndARequestWithinItIsAnsweredWithConnectionClose()
      throws Exception {
    Server server = server();
    JettyDrain drain = JettyDrain.install(server);
    server.start();
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try (Socket idle = new Socket(InetAddress.getLoopbackAddress(), port);
        Socket late = new Socket(InetAddress.getLoopbackAddress(), port)) {
      idle.setSoTimeout(5_000);
      late.setSoTimeout(5_000);
      for (Socket socket : List.of(idle, late)) {
        RawHttp.get(socket, "/fast/keep-alive");
        RawResponse first = RawResponse.read(socket.getInputStream(), true);
        assertThat(first).isNotNull();
        assertThat(first.connectionClose()).isFalse();
      }
      Future<JettyDrain.Result> drained = thread.submit(() -> drain.drain(Duration.ofSeconds(5)));
      Thread.sleep(JettyDrain.IDLE_GRACE_MILLIS / 3);
      // Sent within the grace, on a connection idle when the drain started: answered, and told so.
      RawHttp.get(late, "/empty");
      RawResponse answer = RawResponse.read(late.getInputStream(), true);
      assertThat(answer).isNotNull();
      assertThat(answer.status()).isEqualTo(204);
      assertThat(answer.connectionClose()).isTrue();
      assertThat(late.getInputStream().read()).isEqualTo(-1);
      // Idle through the grace: closed, without a byte.
      long start = System.nanoTime();
      assertThat(idle.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
      JettyDrain.Result result = drained.get(5, TimeUnit.SECONDS);
      assertThat(result.idleClosed()).isEqualTo(1);
      assertThat(result.completed()).isEqualTo(1);
      assertThat(result.forcedCloses()).isZero();
      assertThat(result.elapsed())
          .isGreaterThanOrEqualTo(Duration.ofMillis(JettyDrain.IDLE_GRACE_MILLIS))
          .isLessThan(Duration.ofSeconds(2));
    } finally {
      thread.shutdownNow();
      server.stop();
    }
  }

  @Test
  void theBoundClosesWhatIsStillOpenAndASecondDrainReturnsTheFirstResult() throws Exception {
    Server server = server();
    JettyDrain drain = JettyDrain.install(server);
    server.start();
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    try (Socket stuck = new Socket(InetAddress.getLoopbackAddress(), port)) {
      stuck.setSoTimeout(5_000);
      RawHttp.get(stuck, "/stuck");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (drain.openConnections() == 0 || !stuckEntered) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.sleep(5);
      }
      JettyDrain.Result result = drain.drain(Duration.ofMillis(300));
      assertThat(result.inFlightAtStart()).isEqualTo(1);
      assertThat(result.forcedCloses()).isEqualTo(1);
      assertThat(result.abandoned()).isEqualTo(1);
      assertThat(result.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
      assertThat(result.elapsed()).isLessThan(Duration.ofSeconds(2));
      assertThat(RawResponse.read(stuck.getInputStream(), true)).isNull();
      assertThat(drain.drain(Duration.ofSeconds(1))).isSameAs(result);
      assertThat(drain.isDraining()).isTrue();
    } finally {
      server.stop();
    }
  }

  private static volatile boolean stuckEntered;

  private static Server server() {
    QueuedThreadPool pool = new QueuedThreadPool(32, 4);
    Server server = new Server(pool);
    ServerConnector connector = new ServerConnector(server, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback)
              throws Exception {
            String path = request.getHttpURI().getPath();
            if (path.equals("/stuck")) {
              stuckEntered = true;
              // Never answered while the test runs; the bound closes its connection.
              return true;
            }
            if (path.equals("/empty")) {
              // Completed without a write: Jetty commits the response with the callback.
              response.setStatus(204);
              callback.succeeded();
              return true;
            }
            if (path.equals("/slow")) {
              Thread.sleep(200);
            }
            byte[] body = ("ok " + path).getBytes(US_ASCII);
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
          }
        });
    return server;
  }
}
