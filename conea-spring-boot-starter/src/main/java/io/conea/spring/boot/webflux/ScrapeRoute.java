package io.conea.spring.boot.webflux;

import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.Scrape;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The Prometheus scrape as a WebFlux route, negotiated like conea's servlet and JDK handlers. */
public final class ScrapeRoute {

  private ScrapeRoute() {}

  /**
   * Returns a route that answers {@code GET path} with a scrape of {@code metrics}, off the event
   * loop (a scrape of a large registry takes milliseconds).
   */
  public static RouterFunction<ServerResponse> of(String path, PrometheusMetrics metrics) {
    return RouterFunctions.route(
        RequestPredicates.GET(path),
        request ->
            Mono.fromCallable(() -> scrape(request, metrics))
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(ScrapeRoute::respond));
  }

  private static Scrape scrape(ServerRequest request, PrometheusMetrics metrics) {
    return metrics.scrape(
        joined(request.headers().header(HttpHeaders.ACCEPT)),
        joined(request.headers().header(HttpHeaders.ACCEPT_ENCODING)),
        request.uri().getRawQuery());
  }

  private static @Nullable String joined(List<String> values) {
    return values.isEmpty() ? null : String.join(",", values);
  }

  private static Mono<ServerResponse> respond(Scrape scrape) {
    ServerResponse.BodyBuilder response =
        ServerResponse.status(scrape.status())
            .header(HttpHeaders.CONTENT_TYPE, scrape.contentType())
            .contentLength(scrape.contentLength());
    if (scrape.contentEncoding() != null) {
      response.header(HttpHeaders.CONTENT_ENCODING, scrape.contentEncoding());
    }
    return response.bodyValue(scrape.body());
  }
}
