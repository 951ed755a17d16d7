package io.conea.demo;

import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.jetty.ConeaJettyHandler;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** The demo's servlet server: Jetty 12 with the API servlet behind one instrumentation filter. */
final class JettyServer {

  /**
   * Once stopping, how long a connection may sit idle before it is closed: as long as the Netty
   * side's idle grace, and long enough that a busy keep-alive client, whose next request is on its
   * way, is answered with Connection: close rather than closed under it.
   */
  static final long SHUTDOWN_IDLE_TIMEOUT_MILLIS = 100;

  private final Server server;
  private final ServerConnector connector;

  JettyServer(
      String host, int port, DemoApi api, HttpServerTracing tracing, long stopTimeoutMillis) {
    QueuedThreadPool threads = new QueuedThreadPool(64, 4);
    threads.setName("jetty");
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    // Once stopping, a connection idle this long is closed; a busy one gets Connection: close.
    connector.setShutdownIdleTimeout(SHUTDOWN_IDLE_TIMEOUT_MILLIS);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder filter = new FilterHolder(ConeaTracingFilter.create(tracing));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder servlet = new ServletHolder(new DemoServlet(api));
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/*");

    // In-flight requests finish before the server stops, their responses with Connection: close
    // (Jetty's connections do that once their connector is shut down); new connections are refused.
    server.setHandler(new DrainingHandler(context));
    // Counts what Jetty answers before the filter (bad URIs, over-long headers, ...) and lets the
    // filter count client resets and closes as 499: at the top, outside everything else.
    ConeaJettyHandler.install(server, tracing);
    server.setStopTimeout(stopTimeoutMillis);
    server.setStopAtShutdown(false);
  }

  void start() throws Exception {
    server.start();
  }

  int port() {
    return connector.getLocalPort();
  }

  /**
   * Stops accepting: closes the connectors' server sockets now, so that new connections are
   * refused, and marks the connections for a graceful close (Connection: close on the responses in
   * flight, idle ones closed after {@link #SHUTDOWN_IDLE_TIMEOUT_MILLIS}). {@link #stop()} then
   * waits for the requests in flight.
   */
  void stopAccepting() throws InterruptedException {
    int port = port();
    for (Connector each : server.getConnectors()) {
      each.shutdown();
    }
    Ports.awaitRefused(connector.getHost(), port);
  }

  /**
   * Lets in-flight requests finish (up to the stop timeout, counted from the call), then stops.
   * Jetty's graceful stop waits for the requests being handled, not for the connections a client
   * may be sending its next request on at that moment: this first waits for the connections to
   * close, which they do after their next response (it carries Connection: close once the connector
   * is shut down) or after the shutdown idle timeout.
   */
  void stop() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(server.getStopTimeout());
    while (!connector.getConnectedEndPoints().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    server.setStopTimeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    server.stop();
  }

  /**
   * Jetty's graceful handler, except that a request arriving on an open connection during the
   * shutdown (sent before its client could learn that the connection closes) is served, as the
   * Netty side does, rather than rejected with 503: its response carries Connection: close, and the
   * stop waits for it like for any request in flight.
   */
  private static final class DrainingHandler extends GracefulHandler {
    DrainingHandler(Handler handler) {
      super(handler);
    }

    @Override
    protected void handleShutdownRejection(Request request, Response response, Callback callback) {
      try {
        Handler next = getHandler();
        if (next == null || !next.handle(request, response, callback)) {
          Response.writeError(request, response, callback, 404);
        }
      } catch (Throwable failure) {
        callback.failed(failure);
      }
    }
  }
}
