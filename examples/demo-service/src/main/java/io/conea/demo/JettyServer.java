package io.conea.demo;

import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.jetty.ConeaJettyHandler;
import io.conea.tracing.jetty.JettyDrain;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.DispatcherType;
import java.time.Duration;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** The demo's servlet server: Jetty 12 with the API servlet behind one instrumentation filter. */
final class JettyServer {

  /** Once the drain has closed the connections, how long Jetty's own stop may take. */
  private static final long STOP_TIMEOUT_MILLIS = 1_000;

  private final Server server;
  private final ServerConnector connector;
  private final JettyDrain drain;

  JettyServer(String host, int port, DemoApi api, HttpServerTracing tracing) {
    QueuedThreadPool threads = new QueuedThreadPool(64, 4);
    threads.setName("jetty");
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder filter = new FilterHolder(ConeaTracingFilter.create(tracing));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder servlet = new ServletHolder(new DemoServlet(api));
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/*");

    server.setHandler(context);
    // Counts what Jetty answers before the filter (bad URIs, over-long headers, ...) and lets the
    // filter count client resets and closes as 499: at the top, outside everything else.
    ConeaJettyHandler.install(server, tracing);
    // Graceful shutdown as on the Netty side: requests in flight, and requests arriving on open
    // connections, answered with Connection: close; connections idle for 100 ms closed.
    drain = JettyDrain.install(server);
    server.setStopTimeout(STOP_TIMEOUT_MILLIS);
    server.setStopAtShutdown(false);
  }

  void start() throws Exception {
    server.start();
  }

  int port() {
    return connector.getLocalPort();
  }

  /**
   * Stops accepting: closes the connectors' server sockets now and waits until the port refuses
   * connections. The open connections are served on until {@link #drain}.
   */
  void stopAccepting() throws InterruptedException {
    drain.closeListeners();
  }

  /** Answers the requests in flight (up to the bound) and closes the connections. */
  JettyDrain.Result drain(Duration bound) throws InterruptedException {
    return drain.drain(bound);
  }

  /** Stops the server; what the drain left open is closed now. */
  void stop() throws Exception {
    server.stop();
  }
}
