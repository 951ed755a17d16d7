package io.conea.benchmarks.overhead;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local OTLP receiver that accepts every export and keeps nothing: {@code POST /v1/traces} (and
 * {@code /v1/metrics}, {@code /v1/logs}) read the body and answer 200 with an empty protobuf
 * response, which OTLP/HTTP exporters take as full success. {@code GET /stats} answers "{@code
 * <posts> <bytes>}", the exports received so far, so run.sh can show that spans were sent.
 *
 * <p>{@code java ... io.conea.benchmarks.overhead.OtlpSink <port>} runs in a process of its own, so
 * that no instrumentation under test sees it.
 */
public final class OtlpSink implements AutoCloseable {

  private final HttpServer server;
  private final AtomicLong posts = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();

  private OtlpSink(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    server.setExecutor(Executors.newFixedThreadPool(2, OtlpSink::daemon));
    server.createContext("/v1/", this::export);
    server.createContext("/stats", this::stats);
    server.start();
  }

  private static Thread daemon(Runnable task) {
    Thread thread = new Thread(task, "otlp-sink");
    thread.setDaemon(true);
    return thread;
  }

  /** Starts a sink on 127.0.0.1:{@code port} (0 for any free port). */
  public static OtlpSink start(int port) throws IOException {
    return new OtlpSink(port);
  }

  /** The port the sink listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The exports received so far. */
  public long posts() {
    return posts.get();
  }

  private void export(HttpExchange exchange) throws IOException {
    try (exchange) {
      long read = 0;
      try (InputStream in = exchange.getRequestBody()) {
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) >= 0; ) {
          read += n;
        }
      }
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      posts.incrementAndGet();
      bytes.addAndGet(read);
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, -1);
    }
  }

  private void stats(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = (posts.get() + " " + bytes.get() + "\n").getBytes(StandardCharsets.US_ASCII);
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** Serves until the process is stopped. */
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: OtlpSink <port>");
      System.exit(2);
    }
    start(Integer.parseInt(args[0]));
    Thread.currentThread().join();
  }
}
