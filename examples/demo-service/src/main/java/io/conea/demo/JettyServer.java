package io.conea.demo;

import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.jetty.ConeaJettyHandler;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** The demo's servlet server: Jetty 12 with the API servlet behind one instrumentation filter. */
final class JettyServer {

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
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder filter = new FilterHolder(ConeaTracingFilter.create(tracing));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder servlet = new ServletHolder(new DemoServlet(api));
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/*");

    // In-flight requests finish before the server stops; new ones are refused meanwhile.
    server.setHandler(new GracefulHandler(context));
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

  /** Stops accepting, lets in-flight requests finish (up to the stop timeout), then stops. */
  void stop() throws Exception {
    server.stop();
  }
}
