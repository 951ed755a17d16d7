package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Requests a test server holds until the test lets them go, and the checks of the servlet
 * containers' tests built on them: what a client that leaves while its request is held, or that
 * waits for the answer, is counted as.
 */
public final class HeldRequests {

  private volatile CountDownLatch entered = new CountDownLatch(1);
  private volatile CountDownLatch release = new CountDownLatch(1);

  /** For the server: a held request has arrived. */
  public void entered() {
    entered.countDown();
  }

  /** For the server: waits, 5 seconds at most, until the test lets held requests go. */
  public void awaitRelease() {
    try {
      release.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Lets the requests held now go. */
  public void release() {
    release.countDown();
  }

  /**
   * Sends the request, waits until the server holds it, closes (FIN) or resets (RST) the
   * connection, then lets the server answer; the request is counted once, with {@code status}.
   */
  public void assertClientAbortCounted(
      TestTelemetry telemetry, int port, String request, boolean reset, int status)
      throws Exception {
    double total = telemetry.totalRequests();
    double before = telemetry.requestsWithStatus(status);
    entered = new CountDownLatch(1);
    release = new CountDownLatch(1);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      RawHttp.send(socket, request);
      assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
      if (reset) {
        socket.setSoLinger(true, 0);
      }
    }
    Thread.sleep(50);
    release.countDown();
    Await.until(() -> telemetry.totalRequests() >= total + 1);
    Thread.sleep(20);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 1);
    assertThat(telemetry.requestsWithStatus(status)).as(telemetry.scrape()).isEqualTo(before + 1);
  }

  /**
   * Sends the request, lets the server answer once it holds it, and checks the status line the
   * client receives; the request is counted once, as a 200.
   */
  public void assertAnsweredOnReleaseIs200(
      TestTelemetry telemetry, int port, String request, String statusLinePrefix) throws Exception {
    double total = telemetry.totalRequests();
    double ok = telemetry.requestsWithStatus(200);
    entered = new CountDownLatch(1);
    release = new CountDownLatch(1);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      RawHttp.send(socket, request);
      assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
      release.countDown();
      assertThat(RawHttp.statusLine(socket)).startsWith(statusLinePrefix);
    }
    Await.until(() -> telemetry.totalRequests() >= total + 1);
    // A moment for a second count, which must not come.
    Thread.sleep(50);
    assertThat(telemetry.totalRequests()).isEqualTo(total + 1);
    assertThat(telemetry.requestsWithStatus(200)).isEqualTo(ok + 1);
  }
}
