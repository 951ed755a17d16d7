package io.conea.metrics.servlet;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.ScrapeEndpointContract;
import java.net.URI;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

class MetricsServletTest extends ScrapeEndpointContract {

  private Server server;

  @Override
  protected URI serve(PrometheusMetrics prometheus) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(MetricsServlet.create(prometheus)), "/metrics");
    server.setHandler(context);
    server.start();
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/metrics");
  }

  @Override
  protected void stopServing() throws Exception {
    server.stop();
  }

  @Test
  void createRejectsNull() {
    assertThatThrownBy(() -> MetricsServlet.create(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("metrics");
  }
}
