package io.conea.demo;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.EnumSet;
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

  /** As long as the Netty side's idle grace: both ports treat idle keep-alive connections alike. */
  static final long SHUTDOWN_IDLE_TIMEOUT_MILLIS = 100;

  private final Server server;
  private final ServerConnector connector;

  JettyServer(String host, int port, DemoApi api, Filter instrumentation, long stopTimeoutMillis) {
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
    FilterHolder filter = new FilterHolder(instrumentation);
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder servlet = new ServletHolder(new DemoServlet(api));
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/*");

    // In-flight requests finish before the server stops, their responses with Connection: close
    // (Jetty's connections do that once their connector is shut down); new connections are refused.
    server.setHandler(new DrainingHandler(context));
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
  void stopAccepting() {
    for (Connector each : server.getConnectors()) {
      each.shutdown();
    }
  }

  /** Stops accepting, lets in-flight requests finish (up to the stop timeout), then stops. */
  void stop() throws Exception {
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
