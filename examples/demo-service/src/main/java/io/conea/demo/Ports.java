package io.conea.demo;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/** Waits for closed listeners to release their ports. */
final class Ports {

  private Ports() {}

  /**
   * Waits (up to a second) until the port of a closed listener refuses connections. A listener's
   * socket is released only once its acceptor (a thread blocked in accept(), a selector) lets go of
   * it, and a client connecting meanwhile would get a connection that is reset later.
   */
  static void awaitRefused(String host, int port) throws InterruptedException {
    InetAddress address;
    try {
      address =
          host == null || InetAddress.getByName(host).isAnyLocalAddress()
              ? InetAddress.getLoopbackAddress()
              : InetAddress.getByName(host);
    } catch (IOException e) {
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress(address, port), 100);
      } catch (IOException refused) {
        return;
      }
      Thread.sleep(2);
    }
  }
}
