package io.conea.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.spring.boot.webflux.ConeaWebFilter;
import io.conea.tracing.HttpServerTracing;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.WebServerFactory;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The customizer on a factory shaped like Boot's {@code NettyReactiveWebServerFactory} (whose
 * customizer type moved package between Boot 3.5 and 4.0, hence found by its simple name): the
 * server it customizes counts what Reactor Netty rejects.
 */
class ServerCountingCustomizerTest {

  /** Shaped like Boot's {@code NettyServerCustomizer}, in either of its packages. */
  @FunctionalInterface
  public interface NettyServerCustomizer extends Function<HttpServer, HttpServer> {}

  /** Shaped like Boot's {@code NettyReactiveWebServerFactory}. */
  public static final class NettyFactory implements WebServerFactory {
    final List<NettyServerCustomizer> customizers = new ArrayList<>();

    public void addServerCustomizers(NettyServerCustomizer... customizers) {
      this.customizers.addAll(List.of(customizers));
    }
  }

  @Test
  void aReactorNettyFactoryGetsACustomizerThatCountsRejectedRequests() throws IOException {
    PrometheusMetrics prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
    HttpServerTracing tracing =
        HttpServerTracing.builder(
                OpenTelemetry.noop(), ConeaMetrics.builder(prometheus.registry()).build())
            .build();
    NettyFactory factory = new NettyFactory();
    new ServerCountingCustomizer(tracing).customize(factory);
    assertThat(factory.customizers).hasSize(1);

    HttpServer server = HttpServer.create().host("127.0.0.1").port(0);
    for (NettyServerCustomizer customizer : factory.customizers) {
      server = customizer.apply(server);
    }
    DisposableServer running =
        server
            .handle(
                new ReactorHttpHandlerAdapter(
                    WebHttpHandlerBuilder.webHandler(
                            exchange -> exchange.getResponse().setComplete())
                        .filter(ConeaWebFilter.create(tracing))
                        .build()))
            .bindNow();
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), running.port())) {
      socket.setSoTimeout(5_000);
      socket
          .getOutputStream()
          .write(
              "GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.shutdownOutput(); // the server closes once it has answered
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 400 ");
    } finally {
      running.disposeNow();
    }
    assertThat(prometheus.registry().scrape())
        .containsPattern(
            "(?m)^http_requests_total\\{[^}]*endpoint=\"_OTHER\"[^}]*status=\"400\"[^}]*} 1\\.0$");
    prometheus.close();
  }
}
