package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class ScrapeHttpHandlerTest extends ScrapeEndpointContract {

  private HttpServer server;

  @Override
  protected URI serve(PrometheusMetrics prometheus) throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/metrics", prometheus.httpHandler());
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics");
  }

  @Override
  protected void stopServing() {
    server.stop(0);
  }

  @Test
  void notAllowedNamesTheAllowedMethods() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).PUT(HttpRequest.BodyPublishers.ofString("x")));

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }
}
