package io.conea.tracing.jetty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.RawResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
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
      List<Client> clients = new ArrayList<>();
      JettyDrain.Result result;
      try {
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          // A quarter of the clients ask for slow answers: those are in flight at the drain.
          Client client = new Client(port, i % 4 == 0 ? "/slow" : "/fast/" + i);
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
        send(socket, "/fast/keep-alive");
        RawResponse first = RawResponse.read(socket.getInputStream(), true);
        assertThat(first).isNotNull();
        assertThat(first.connectionClose()).isFalse();
      }
      Future<JettyDrain.Result> drained = thread.submit(() -> drain.drain(Duration.ofSeconds(5)));
      Thread.sleep(JettyDrain.IDLE_GRACE_MILLIS / 3);
      // Sent within the grace, on a connection idle when the drain started: answered, and told so.
      send(late, "/empty");
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
      send(stuck, "/stuck");
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
    volatile String how;
    volatile boolean refusedAfterwards;

    Client(int port, String target) {
      this.port = port;
      this.target = target;
    }

    @Override
    public String toString() {
      return "client("
          + target
          + ", complete="
          + complete
          + ", end="
          + end
          + ", broken="
          + broken
          + ", how="
          + how
          + ")";
    }

    @Override
    public void run() {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(20_000);
        InputStream in = socket.getInputStream();
        boolean reused = false;
        while (true) {
          if (reused && RawResponse.closedByServer(socket, 20000)) {
            end = End.IDLE_CLOSED;
            break;
          }
          RawResponse response;
          try {
            send(socket, target);
            response = RawResponse.read(in, true);
          } catch (SocketException reset) {
            response = null;
            how = reset.toString();
          }
          if (response == null) {
            end = End.NOT_ACCEPTED;
            break;
          }
          if (response.status() != 200) {
            broken = "status " + response.status();
            return;
          }
          complete++;
          if (response.connectionClose()) {
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
        broken = "connected again after the drain started: " + again;
      } catch (ConnectException refused) {
        refusedAfterwards = true;
      } catch (IOException e) {
        broken = "reconnecting: " + e;
      }
    }
  }
}
