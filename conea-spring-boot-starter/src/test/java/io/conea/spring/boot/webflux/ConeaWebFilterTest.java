package io.conea.spring.boot.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.HttpServerTracing;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The WebFlux filter on mock exchanges: what each outcome of the chain is counted and traced as,
 * read back from a real Prometheus scrape and exported spans.
 */
class ConeaWebFilterTest {

  private static final String USERS = "/api/v1/users/{id}";
  private static final String BEST_MATCHING_PATTERN = ConeaWebFilter.BEST_MATCHING_PATTERN;

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final SdkTracerProvider tracerProvider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
  private final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).build();
  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();
  private final ConeaWebFilter filter =
      ConeaWebFilter.create(
          HttpServerTracing.builder(sdk, ConeaMetrics.builder(prometheus.registry()).build())
              .build());

  @AfterEach
  void close() {
    sdk.close();
    prometheus.close();
  }

  @Test
  void aCompletedRequestIsCountedWithItsStatusAndRouteAndTracedInItsScope() {
    MockServerWebExchange exchange = exchange("GET", "/api/v1/users/7");
    AtomicReference<String> traceIdSeenByHandler = new AtomicReference<>();
    AtomicReference<String> pathSeenByHandler = new AtomicReference<>();
    WebFilterChain chain =
        ex ->
            Mono.fromRunnable(
                () -> {
                  // What a controller's log line carries.
                  traceIdSeenByHandler.set(MDC.get("trace_id"));
                  pathSeenByHandler.set(MDC.get("path"));
                  ex.getAttributes()
                      .put(BEST_MATCHING_PATTERN, PathPatternParser.defaultInstance.parse(USERS));
                  ex.getResponse().setStatusCode(HttpStatus.CREATED);
                });

    filter.filter(exchange, chain).block();

    assertThat(requests("GET", USERS, 201)).isEqualTo(1.0);
    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("GET " + USERS);
    assertThat(traceIdSeenByHandler.get()).isEqualTo(span.getTraceId());
    assertThat(pathSeenByHandler.get()).isEqualTo("/api/v1/users/7");
    assertThat(MDC.get("trace_id")).isNull();
  }

  @Test
  void aResponseStatusExceptionIsCountedWithItsStatusAndTheCatchAllAsNotFound() {
    MockServerWebExchange exchange = exchange("GET", "/nothing/here");
    WebFilterChain chain =
        ex -> {
          ex.getAttributes()
              .put(BEST_MATCHING_PATTERN, PathPatternParser.defaultInstance.parse("/**"));
          return Mono.error(new ResponseStatusException(HttpStatus.NOT_FOUND));
        };

    assertThatThrownBy(() -> filter.filter(exchange, chain).block())
        .isInstanceOf(ResponseStatusException.class);

    assertThat(requests("GET", "NOT_FOUND", 404)).isEqualTo(1.0);
    assertThat(onlySpan().getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
  }

  @Test
  void anExceptionIsCountedAs500WithAnErrorSpan() {
    MockServerWebExchange exchange = exchange("POST", "/api/v1/users/7");
    IllegalStateException boom = new IllegalStateException("boom");
    WebFilterChain chain =
        ex -> {
          ex.getAttributes()
              .put(BEST_MATCHING_PATTERN, PathPatternParser.defaultInstance.parse(USERS));
          return Mono.error(boom);
        };

    assertThatThrownBy(() -> filter.filter(exchange, chain).block()).isSameAs(boom);

    assertThat(requests("POST", USERS, 500)).isEqualTo(1.0);
    SpanData span = onlySpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getEvents()).anyMatch(event -> event.getName().equals("exception"));
  }

  @Test
  void aChainThatThrowsInsteadOfFailingIsCountedAs500AndFailsTheSubscriber() {
    MockServerWebExchange exchange = exchange("GET", "/api/v1/throws");
    WebFilterChain chain =
        ex -> {
          throw new IllegalArgumentException("thrown");
        };

    assertThatThrownBy(() -> filter.filter(exchange, chain).block())
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(requests("GET", "/api/v1/throws", 500)).isEqualTo(1.0);
  }

  @Test
  void aCancelledRequestIsAClientClose() {
    MockServerWebExchange exchange = exchange("GET", "/api/v1/slow");
    Sinks.Empty<Void> never = Sinks.empty();

    filter.filter(exchange, ex -> never.asMono()).subscribe().dispose();

    assertThat(requests("GET", "/api/v1/slow", 499)).isEqualTo(1.0);
    assertThat(spans.getFinishedSpanItems()).hasSize(1);
  }

  @Test
  void aRequestIsCountedOnceThoughItPassesTheFilterTwice() {
    MockServerWebExchange exchange = exchange("GET", "/api/v1/health");
    filter.filter(exchange, ex -> filter.filter(ex, inner -> Mono.empty())).block();

    assertThat(requests("GET", "/api/v1/health", 200)).isEqualTo(1.0);
    assertThat(spans.getFinishedSpanItems()).hasSize(1);
  }

  // ---------------------------------------------------------------------------------------------

  private static MockServerWebExchange exchange(String method, String path) {
    return MockServerWebExchange.from(
        MockServerHttpRequest.method(org.springframework.http.HttpMethod.valueOf(method), path));
  }

  private SpanData onlySpan() {
    List<SpanData> finished = spans.getFinishedSpanItems();
    assertThat(finished).hasSize(1);
    return finished.get(0);
  }

  private double requests(String method, String endpoint, int status) {
    String scrape =
        new String(
            prometheus.scrape("text/plain; version=0.0.4", null).body(), StandardCharsets.UTF_8);
    String series =
        "http_requests_total{endpoint=\""
            + endpoint
            + "\",method=\""
            + method
            + "\",status=\""
            + status
            + "\"} ";
    return scrape
        .lines()
        .filter(line -> line.startsWith(series))
        .mapToDouble(line -> Double.parseDouble(line.substring(series.length())))
        .findFirst()
        .orElse(0.0);
  }
}
