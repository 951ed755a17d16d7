package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.conea.metrics.ConeaMetrics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

@SuppressWarnings("try") // scopes are held for what they make current
class HttpServerTracingTest {

  private static final String PARENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String PARENT_SPAN_ID = "00f067aa0ba902b7";

  private final TestTelemetry telemetry = TestTelemetry.alwaysOn();
  // As conea-tracing-sdk sets it up: always-on reads no attributes.
  private final HttpServerTracing tracing =
      HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
          .routes(RouteTemplates.of("/api/v1/users/{id}", "/api/v1/jobs/{jobType}"))
          .samplerReadsAttributes(false)
          .build();

  @AfterEach
  void close() {
    telemetry.close();
    MDC.clear();
  }

  private void serve(HttpServerTracing tracing, FakeRequest request, int status) {
    TracedRequest traced = tracing.start(request, FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(Span.current()).isSameAs(traced.span());
    }
    traced.end(status, null, null);
  }

  private SpanData onlySpan() {
    assertThat(telemetry.finishedSpans()).hasSize(1);
    return telemetry.finishedSpans().get(0);
  }

  @Test
  void serverSpanIsNamedAfterTheRouteAndCarriesTheStableHttpAttributes() {
    FakeRequest request =
        new FakeRequest("GET", "/api/v1/users/42", "page=2")
            .header("Host", "api.example.com:8443")
            .header("User-Agent", "curl/8.5")
            .header("X-Forwarded-For", "203.0.113.9, 10.0.0.1");

    serve(tracing, request, 200);

    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("GET /api/v1/users/{id}");
    assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    Map<String, Object> attributes =
        span.getAttributes().asMap().entrySet().stream()
            .collect(Collectors.toMap(e -> e.getKey().getKey(), Map.Entry::getValue));
    assertThat(attributes)
        .containsEntry("http.request.method", "GET")
        .containsEntry("url.path", "/api/v1/users/42")
        .containsEntry("url.query", "page=2")
        .containsEntry("url.scheme", "http")
        .containsEntry("http.route", "/api/v1/users/{id}")
        .containsEntry("http.response.status_code", 200L)
        .containsEntry("server.address", "api.example.com")
        .containsEntry("server.port", 8443L)
        .containsEntry("client.address", "203.0.113.9")
        .containsEntry("network.peer.address", "127.0.0.1")
        .containsEntry("user_agent.original", "curl/8.5")
        .containsEntry("network.protocol.version", "1.1")
        .doesNotContainKey("error.type");
  }

  @Test
  void pathParametersNeitherReachTelemetryNorHideTheRoute() {
    TracedRequest traced =
        tracing.start(FakeRequest.get("/api/v1/users/42;jsessionid=secret"), FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("path")).isEqualTo("/api/v1/users/42");
    }
    traced.end(200, null, null);

    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("GET /api/v1/users/{id}");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path")))
        .isEqualTo("/api/v1/users/42");
    assertThat(span.toString()).doesNotContain("secret");
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(1);
  }

  @Test
  void spanNameOfAMethodAndRouteIsBuiltOnceAndShared() {
    serve(tracing, FakeRequest.get("/api/v1/users/1"), 200);
    serve(tracing, FakeRequest.get("/api/v1/users/2"), 200);
    TracedRequest late = tracing.start(FakeRequest.get("/orders/1"), FakeRequest.ACCESSOR);
    late.end(200, null, "/orders/{orderId}");
    TracedRequest lateAgain = tracing.start(FakeRequest.get("/orders/2"), FakeRequest.ACCESSOR);
    lateAgain.end(200, null, "/orders/{orderId}");

    List<SpanData> spans = telemetry.finishedSpans();
    assertThat(spans.get(0).getName()).isEqualTo("GET /api/v1/users/{id}");
    assertThat(spans.get(1).getName()).isSameAs(spans.get(0).getName());
    assertThat(spans.get(2).getName()).isEqualTo("GET /orders/{orderId}");
    assertThat(spans.get(3).getName()).isSameAs(spans.get(2).getName());
  }

  @Test
  void makingTheCurrentRequestCurrentAgainChangesNothingAndCostsNothing() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/5"), FakeRequest.ACCESSOR);
    try (Scope outer = traced.makeCurrent()) {
      Scope nested = traced.makeCurrent();
      assertThat(nested).isSameAs(Scope.noop());
      nested.close();
      assertThat(MDC.get("path")).isEqualTo("/api/v1/users/5");
      assertThat(Span.current()).isSameAs(traced.span());
      // Once another context is current, the request is made current for real again.
      try (Scope other = Context.root().makeCurrent()) {
        try (Scope again = traced.makeCurrent()) {
          assertThat(again).isNotSameAs(Scope.noop());
          assertThat(Span.current()).isSameAs(traced.span());
        }
        assertThat(Span.current().getSpanContext().isValid()).isFalse();
      }
      assertThat(Span.current()).isSameAs(traced.span());
    }
    traced.end(200, null, null);
    assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
  }

  @Test
  void samplerThatMayReadAttributesSeesTheSamplingRelevantOnesAtSpanCreation() {
    Map<String, Object> seen = new ConcurrentHashMap<>();
    Sampler reading =
        new Sampler() {
          @Override
          public SamplingResult shouldSample(
              Context parentContext,
              String traceId,
              String name,
              SpanKind spanKind,
              Attributes attributes,
              List<LinkData> parentLinks) {
            attributes.forEach((key, value) -> seen.put(key.getKey(), value));
            return SamplingResult.drop();
          }

          @Override
          public String getDescription() {
            // Described as a built-in sampler, yet it is not one and must see the attributes.
            return "AlwaysOnSampler";
          }
        };
    TestTelemetry custom = TestTelemetry.withSampler(reading);
    try {
      HttpServerTracing customTracing =
          HttpServerTracing.builder(custom.api(), custom.metrics)
              .routes(RouteTemplates.of("/api/v1/users/{id}"))
              .build();
      TracedRequest traced =
          customTracing.start(
              new FakeRequest("GET", "/api/v1/users/42", "page=2&sig=secret")
                  .header("Host", "api.example.com:8443")
                  .header("User-Agent", "curl/8.5")
                  .header("X-Forwarded-For", "203.0.113.9"),
              FakeRequest.ACCESSOR);
      traced.end(200, null, null);

      assertThat(seen)
          .containsEntry("http.request.method", "GET")
          .containsEntry("url.path", "/api/v1/users/42")
          .containsEntry("url.query", "page=2&sig=REDACTED")
          .containsEntry("url.scheme", "http")
          .containsEntry("http.route", "/api/v1/users/{id}")
          .containsEntry("server.address", "api.example.com")
          .containsEntry("server.port", 8443L)
          .containsEntry("client.address", "203.0.113.9")
          .containsEntry("user_agent.original", "curl/8.5");
      assertThat(custom.finishedSpans()).isEmpty();
      assertThat(custom.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(1);
    } finally {
      custom.close();
    }
  }

  @Test
  void requestEndedOnAnotherThreadRecordsItsExemplarThereAndLeavesThatThreadsMdcAlone()
      throws Exception {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/8"), FakeRequest.ACCESSOR);
    String traceId = traced.span().getSpanContext().getTraceId();
    Map<String, String> mdcAfter = new ConcurrentHashMap<>();
    Thread other =
        new Thread(
            () -> {
              MDC.put("path", "/elsewhere");
              traced.end(200, null, null);
              mdcAfter.putAll(MDC.getCopyOfContextMap());
              mdcAfter.put(
                  "spanValid", Boolean.toString(Span.current().getSpanContext().isValid()));
            });
    other.start();
    other.join(10_000);

    assertThat(mdcAfter).isEqualTo(Map.of("path", "/elsewhere", "spanValid", "false"));
    assertThat(telemetry.registry.scrape(TestTelemetry.OPENMETRICS))
        .contains("trace_id=\"" + traceId + "\"");
  }

  @Test
  void spanWithoutKnownRouteIsNamedAfterTheMethodAlone() {
    serve(tracing, FakeRequest.get("/unmatched/thing"), 200);
    assertThat(onlySpan().getName()).isEqualTo("GET");
    assertThat(onlySpan().getAttributes().get(AttributeKey.stringKey("http.route"))).isNull();
  }

  @Test
  void unknownMethodIsOtherAndKeepsTheOriginal() {
    serve(tracing, new FakeRequest("PROPFIND", "/dav", null), 207);
    SpanData span = onlySpan();
    assertThat(span.getName()).isEqualTo("HTTP");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("http.request.method")))
        .isEqualTo("_OTHER");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("http.request.method_original")))
        .isEqualTo("PROPFIND");
  }

  @Test
  void frameworkRouteAtEndRenamesTheSpanAndLabelsTheMetrics() {
    TracedRequest traced = tracing.start(FakeRequest.get("/orders/77"), FakeRequest.ACCESSOR);
    traced.end(200, null, "/orders/{orderId}");

    assertThat(onlySpan().getName()).isEqualTo("GET /orders/{orderId}");
    assertThat(onlySpan().getAttributes().get(AttributeKey.stringKey("http.route")))
        .isEqualTo("/orders/{orderId}");
    assertThat(telemetry.requests("GET", "/orders/{orderId}", "200")).isEqualTo(1);
  }

  @Test
  void serverErrorMarksTheSpanAsErrorButClientErrorDoesNot() {
    serve(tracing, FakeRequest.get("/api/v1/users/1"), 503);
    serve(tracing, FakeRequest.get("/api/v1/users/2"), 404);

    SpanData serverError = telemetry.finishedSpans().get(0);
    SpanData clientError = telemetry.finishedSpans().get(1);
    assertThat(serverError.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(serverError.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("503");
    assertThat(clientError.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(clientError.getAttributes().get(AttributeKey.stringKey("error.type"))).isNull();
  }

  @Test
  void exceptionIsRecordedOnTheSpanWithItsType() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/1"), FakeRequest.ACCESSOR);
    traced.end(500, new IllegalStateException("database down"), null);

    SpanData span = onlySpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getStatus().getDescription()).isEqualTo("database down");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("java.lang.IllegalStateException");
    assertThat(span.getEvents()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("exception"));
  }

  @Test
  void signedUrlCredentialsAreRedactedAndUserinfoDropped() {
    FakeRequest request =
        new FakeRequest(
                "GET",
                "/download",
                "file=a.txt&X-Amz-Credential=AKIA%2F2025&X-Amz-Signature=abc123"
                    + "&X-Amz-Security-Token=tok&AWSAccessKeyId=AKIA&Signature=s1&sig=s2"
                    + "&X-Goog-Signature=g&keep=yes")
            .header("Host", "alice:secret@files.example.com:9000");

    serve(tracing, request, 200);

    SpanData span = onlySpan();
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.query")))
        .isEqualTo(
            "file=a.txt&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"
                + "&X-Amz-Security-Token=REDACTED&AWSAccessKeyId=REDACTED&Signature=REDACTED"
                + "&sig=REDACTED&X-Goog-Signature=REDACTED&keep=yes");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("server.address")))
        .isEqualTo("files.example.com");
    assertThat(span.getAttributes().toString()).doesNotContain("secret", "abc123", "AKIA%2F");
  }

  @Test
  void identifierHeadersAreDecodedAsUtf8WhenValidThenBounded() {
    // As Netty and servlet containers hand header bytes: one ISO-8859-1 character per byte.
    String user = "josé-日本-😀";
    String received =
        new String(user.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    String longReceived =
        new String("é".repeat(300).getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    FakeRequest request =
        FakeRequest.get("/x")
            .header("X-User-Id", received)
            .header("X-Organization-Id", longReceived);
    TracedRequest traced = tracing.start(request, FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("user_id")).isEqualTo(user);
      assertThat(MDC.get("organization_id")).isEqualTo("é".repeat(128));
    }
    traced.end(200, null, null);
  }

  @Test
  void oversizedValuesAreTruncated() {
    String longPath = "/" + "p".repeat(5000);
    FakeRequest request =
        new FakeRequest("GET", longPath, "q=" + "x".repeat(5000))
            .header("User-Agent", "u".repeat(5000))
            .header("X-User-Id", "id".repeat(500));
    TracedRequest traced = tracing.start(request, FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("path")).hasSize(1024);
      assertThat(MDC.get("user_id")).hasSize(128);
    }
    traced.end(200, null, null);

    SpanData span = onlySpan();
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path"))).hasSize(1024);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.query"))).hasSize(1024);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("user_agent.original")))
        .hasSize(1024);
  }

  @Test
  void w3cParentIsFollowedAndJaegerParentIsAccepted() {
    serve(
        tracing,
        FakeRequest.get("/a")
            .header("traceparent", "00-" + PARENT_TRACE_ID + "-" + PARENT_SPAN_ID + "-01"),
        200);
    serve(
        tracing,
        FakeRequest.get("/b").header("uber-trace-id", "abcdef0123456789:1234567890abcdef:0:1"),
        200);

    SpanData w3c = telemetry.finishedSpans().get(0);
    assertThat(w3c.getTraceId()).isEqualTo(PARENT_TRACE_ID);
    assertThat(w3c.getParentSpanId()).isEqualTo(PARENT_SPAN_ID);
    assertThat(w3c.getParentSpanContext().isRemote()).isTrue();
    SpanData jaeger = telemetry.finishedSpans().get(1);
    assertThat(jaeger.getTraceId()).isEqualTo("0000000000000000abcdef0123456789");
    assertThat(jaeger.getParentSpanId()).isEqualTo("1234567890abcdef");
  }

  @Test
  void wellFormedBaggageIsCurrentAndMalformedBaggageIsWithheld() {
    TracedRequest traced =
        tracing.start(
            FakeRequest.get("/").header("baggage", "tenant=acme,node=DF%2028"),
            FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(Baggage.current().getEntryValue("tenant")).isEqualTo("acme");
      assertThat(Baggage.current().getEntryValue("node")).isEqualTo("DF 28");
    }
    traced.end(200, null, null);
    TracedRequest malformed =
        tracing.start(
            FakeRequest.get("/").header("baggage", "tenant=acme%zz"), FakeRequest.ACCESSOR);
    try (Scope scope = malformed.makeCurrent()) {
      assertThat(Baggage.current().isEmpty()).isTrue();
    }
    malformed.end(200, null, null);
  }

  @Test
  void unparentedRequestsAreSampledAtTenPercentWithinFourSigma() {
    TestTelemetry guide = TestTelemetry.guideSampler();
    try {
      HttpServerTracing sampled = HttpServerTracing.create(guide.api(), guide.metrics);
      int requests = 10_000;
      for (int i = 0; i < requests; i++) {
        TracedRequest traced =
            sampled.start(FakeRequest.get("/api/v1/jobs/x"), FakeRequest.ACCESSOR);
        traced.end(200, null, null);
      }
      double sigma = Math.sqrt(requests * 0.1 * 0.9);
      assertThat((double) guide.finishedSpans().size())
          .isBetween(1000 - 4 * sigma, 1000 + 4 * sigma);
      // Every request is counted, sampled or not.
      assertThat(guide.totalRequests()).isEqualTo(requests);
    } finally {
      guide.close();
    }
  }

  @Test
  void sampledParentIsAlwaysFollowedAndUnsampledParentNever() {
    TestTelemetry guide = TestTelemetry.guideSampler();
    try {
      HttpServerTracing sampled = HttpServerTracing.create(guide.api(), guide.metrics);
      Random random = new Random(7);
      for (int i = 0; i < 500; i++) {
        String traceId = String.format("%016x%016x", random.nextLong() | 1, random.nextLong());
        for (String flags : new String[] {"01", "00"}) {
          TracedRequest traced =
              sampled.start(
                  FakeRequest.get("/x")
                      .header("traceparent", "00-" + traceId + "-" + PARENT_SPAN_ID + "-" + flags),
                  FakeRequest.ACCESSOR);
          assertThat(traced.span().getSpanContext().getTraceId()).isEqualTo(traceId);
          assertThat(traced.span().getSpanContext().isSampled()).isEqualTo(flags.equals("01"));
          traced.end(200, null, null);
        }
      }
      assertThat(guide.finishedSpans()).hasSize(500);
      assertThat(guide.finishedSpans())
          .allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(PARENT_SPAN_ID));
      assertThat(guide.totalRequests()).isEqualTo(1000);
    } finally {
      guide.close();
    }
  }

  @Test
  void everyRequestIsCountedWithTheRouteTemplateAsEndpoint() {
    serve(tracing, FakeRequest.get("/api/v1/users/1"), 200);
    serve(tracing, FakeRequest.get("/api/v1/users/2"), 200);
    serve(tracing, new FakeRequest("POST", "/api/v1/jobs/export", null), 500);
    serve(tracing, FakeRequest.get("/nothing/here"), 404);

    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(2);
    assertThat(telemetry.requests("POST", "/api/v1/jobs/{jobType}", "500")).isEqualTo(1);
    assertThat(telemetry.scrape())
        .contains(
            "http_request_duration_seconds_bucket{endpoint=\"/api/v1/users/{id}\",method=\"GET\",le=\"0.005\"} 2")
        .doesNotContain("endpoint=\"/api/v1/users/1\"");
  }

  @Test
  void routeTemplatesKeepTheirEndpointWhenScannerPathsFillTheEndpointCap() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ConeaMetrics capped = ConeaMetrics.builder(registry).maxEndpoints(3).build();
    HttpServerTracing scanned =
        HttpServerTracing.builder(telemetry.api(), capped)
            .routes(RouteTemplates.of("/api/v1/users/{id}", "/api/v1/jobs/{jobType}"))
            .build();
    try {
      String[] probes = {
        "/wp-admin/setup", "/admin/config", "/phpmyadmin/index", "/cgi-bin/test", "/owa/auth"
      };
      int[] statuses = {401, 403, 405};
      for (int i = 0; i < probes.length; i++) {
        serve(scanned, FakeRequest.get(probes[i]), statuses[i % statuses.length]);
      }
      serve(scanned, FakeRequest.get("/api/v1/users/1"), 200);
      serve(scanned, new FakeRequest("POST", "/api/v1/jobs/export", null), 202);

      String scrape = registry.scrape();
      assertThat(scrape).contains("endpoint=\"_OTHER\""); // the probes did fill the cap
      assertThat(
              TestTelemetry.sample(
                  scrape,
                  "http_requests_total",
                  "endpoint=\"/api/v1/users/{id}\",method=\"GET\",status=\"200\""))
          .isEqualTo(1);
      assertThat(
              TestTelemetry.sample(
                  scrape,
                  "http_requests_total",
                  "endpoint=\"/api/v1/jobs/{jobType}\",method=\"POST\",status=\"202\""))
          .isEqualTo(1);
    } finally {
      capped.close();
      registry.close();
    }
  }

  @Test
  void sampledRequestLeavesItsTraceIdAsExemplarOnTheDurationHistogram() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/9"), FakeRequest.ACCESSOR);
    String traceId = traced.span().getSpanContext().getTraceId();
    traced.end(200, null, null);

    String openMetrics = telemetry.registry.scrape(TestTelemetry.OPENMETRICS);
    assertThat(openMetrics)
        .containsPattern(
            "http_request_duration_seconds_bucket\\{endpoint=\"/api/v1/users/\\{id}\",method=\"GET\","
                + "le=\"[^\"]+\"} 1 # \\{span_id=\"[0-9a-f]{16}\",trace_id=\""
                + traceId
                + "\"}");
  }

  @Test
  void mdcHoldsTheRequestWhileCurrentAndIsRestoredAfter() {
    MDC.put("user_id", "outer-user");
    MDC.put("unrelated", "kept");
    FakeRequest request =
        FakeRequest.get("/api/v1/users/5")
            .header("X-User-Id", "user_123")
            .header("X-Organization-Id", "org_456");
    TracedRequest traced = tracing.start(request, FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("trace_id")).isEqualTo(traced.span().getSpanContext().getTraceId());
      assertThat(MDC.get("span_id")).isEqualTo(traced.span().getSpanContext().getSpanId());
      assertThat(MDC.get("method")).isEqualTo("GET");
      assertThat(MDC.get("path")).isEqualTo("/api/v1/users/5");
      assertThat(MDC.get("user_id")).isEqualTo("user_123");
      assertThat(MDC.get("organization_id")).isEqualTo("org_456");
    }
    traced.end(200, null, null);

    assertThat(MDC.getCopyOfContextMap())
        .isEqualTo(Map.of("user_id", "outer-user", "unrelated", "kept"));
    assertThat(Span.current().getSpanContext().isValid()).isFalse();
  }

  @Test
  void configuredIdentityHeadersFeedTheMdc() {
    HttpServerTracing custom =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .userIdHeader("X-Auth-User")
            .organizationIdHeader("X-Tenant")
            .build();
    TracedRequest traced =
        custom.start(
            FakeRequest.get("/")
                .header("X-Auth-User", "u1")
                .header("X-Tenant", "t1")
                .header("X-User-Id", "ignored"),
            FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("user_id")).isEqualTo("u1");
      assertThat(MDC.get("organization_id")).isEqualTo("t1");
    }
    traced.end(200, null, null);
  }

  @Test
  void anUnsampledRequestReadsNoSamplingAttributesOnlyWhenTheSamplerIsDeclaredToReadNone() {
    TestTelemetry guide = TestTelemetry.withSampler(Sampler.alwaysOff());
    try {
      for (boolean reads : new boolean[] {true, false}) {
        HttpServerTracing http =
            HttpServerTracing.builder(guide.api(), guide.metrics)
                .samplerReadsAttributes(reads)
                .build();
        // Reading the query or the peer address throws: whether it was read shows in the count.
        TracedRequest traced =
            http.start(
                new FakeRequest("GET", "/api/v1/users/1", "page=1"),
                failingOnly(Set.of("query", "peerAddress")));
        traced.end(200, null, null);
        assertThat(http.instrumentationFailures())
            .as("sampler reads: %s", reads)
            .isEqualTo(reads ? 1 : 0);
      }
      assertThat(guide.finishedSpans()).isEmpty();
      assertThat(guide.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(2);
    } finally {
      guide.close();
    }
  }

  @Test
  void unsampledRequestStillPutsItsValidIdsInTheMdc() {
    TestTelemetry guide = TestTelemetry.guideSampler();
    try {
      HttpServerTracing sampled = HttpServerTracing.create(guide.api(), guide.metrics);
      TracedRequest traced =
          sampled.start(
              FakeRequest.get("/")
                  .header("traceparent", "00-" + PARENT_TRACE_ID + "-" + PARENT_SPAN_ID + "-00"),
              FakeRequest.ACCESSOR);
      try (Scope scope = traced.makeCurrent()) {
        assertThat(MDC.get("trace_id")).isEqualTo(PARENT_TRACE_ID);
        assertThat(MDC.get("span_id")).hasSize(16);
      }
      traced.end(200, null, null);
      assertThat(guide.finishedSpans()).isEmpty();
    } finally {
      guide.close();
    }
  }

  @Test
  void untracedPathsAreCountedButNotTraced() {
    HttpServerTracing http =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .untracedPaths("/metrics", "/actuator/")
            .build();
    for (String path : new String[] {"/metrics", "/actuator", "/actuator/health", "/actuators"}) {
      TracedRequest traced = http.start(FakeRequest.get(path), FakeRequest.ACCESSOR);
      try (Scope scope = traced.makeCurrent()) {
        assertThat(MDC.get("path")).isEqualTo(path);
      }
      traced.end(200, null, null);
    }
    assertThat(telemetry.finishedSpans())
        .extracting(span -> span.getAttributes().get(AttributeKey.stringKey("url.path")))
        .containsExactly("/actuators");
    assertThat(telemetry.totalRequests()).isEqualTo(4);
    assertThatThrownBy(
            () ->
                HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
                    .untracedPaths("metrics"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must start with /");
  }

  @Test
  void untracedRequestIsCountedWithoutSpanOrTraceIds() {
    TracedRequest traced =
        tracing.startUntraced(FakeRequest.get("/api/v1/users/3"), FakeRequest.ACCESSOR);
    try (Scope scope = traced.makeCurrent()) {
      assertThat(MDC.get("trace_id")).isNull();
      assertThat(MDC.get("path")).isEqualTo("/api/v1/users/3");
    }
    traced.end(200, null, null);

    assertThat(telemetry.finishedSpans()).isEmpty();
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(1);
  }

  @Test
  void secondEndIsIgnored() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/3"), FakeRequest.ACCESSOR);
    traced.end(200, null, null);
    traced.end(500, null, null);
    traced.endConnectionClosed();

    assertThat(traced.isEnded()).isTrue();
    assertThat(telemetry.finishedSpans()).hasSize(1);
    assertThat(telemetry.totalRequests()).isEqualTo(1);
  }

  @Test
  void connectionClosedBeforeAnyResponseCountsAs499WithoutErrorStatus() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/3"), FakeRequest.ACCESSOR);
    traced.endConnectionClosed();

    SpanData span = onlySpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isNull();
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "499")).isEqualTo(1);
    assertThat(telemetry.scrape()).doesNotContainPattern("http_requests_total\\{[^}]*status=\"5");
  }

  @Test
  void connectionClosedAfterTheHeadersCountsTheStatusSent() {
    TracedRequest traced = tracing.start(FakeRequest.get("/api/v1/users/3"), FakeRequest.ACCESSOR);
    traced.responseStatus(200);
    traced.endConnectionClosed();
    TracedRequest failed = tracing.start(FakeRequest.get("/api/v1/users/4"), FakeRequest.ACCESSOR);
    failed.responseStatus(503);
    failed.endConnectionClosed();

    SpanData ok = telemetry.finishedSpans().get(0);
    assertThat(ok.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(200L);
    assertThat(ok.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
    assertThat(ok.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    SpanData serverError = telemetry.finishedSpans().get(1);
    assertThat(serverError.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(serverError.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(503L);
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(1);
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "503")).isEqualTo(1);
  }

  @Test
  void unobservedResponseCountsTheStatusSentOrOtherAndIsNoError() {
    TracedRequest sent = tracing.start(FakeRequest.get("/api/v1/users/5"), FakeRequest.ACCESSOR);
    sent.responseStatus(200);
    sent.endUnobserved();
    TracedRequest unknown = tracing.start(FakeRequest.get("/api/v1/users/6"), FakeRequest.ACCESSOR);
    unknown.endUnobserved();

    SpanData withStatus = telemetry.finishedSpans().get(0);
    assertThat(withStatus.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(200L);
    assertThat(withStatus.getAttributes().get(AttributeKey.stringKey("error.type"))).isNull();
    SpanData withoutStatus = telemetry.finishedSpans().get(1);
    assertThat(withoutStatus.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(withoutStatus.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("response_unobserved");
    assertThat(withoutStatus.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isNull();
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(1);
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "_OTHER")).isEqualTo(1);
  }

  @Test
  void accessLogWritesOneLinePerRequestWithKeyValues() {
    ListAppender<ILoggingEvent> appender = attachToAccessLogger();
    try {
      serve(tracing, FakeRequest.get("/api/v1/users/1"), 200);
      assertThat(appender.list).isEmpty(); // off by default

      HttpServerTracing logging =
          HttpServerTracing.builder(telemetry.api(), telemetry.metrics).accessLog(true).build();
      TracedRequest traced =
          logging.start(FakeRequest.get("/api/v1/users/1"), FakeRequest.ACCESSOR);
      traced.end(201, null, null);

      assertThat(appender.list).hasSize(1);
      ILoggingEvent event = appender.list.get(0);
      Map<String, Object> keyValues =
          event.getKeyValuePairs().stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
      assertThat(keyValues)
          .containsEntry("method", "GET")
          .containsEntry("path", "/api/v1/users/1")
          .containsEntry("status", 201);
      assertThat(keyValues.get("duration_ms")).isInstanceOf(Long.class);
      assertThat(event.getMDCPropertyMap())
          .containsEntry("trace_id", traced.span().getSpanContext().getTraceId());
    } finally {
      detachFromAccessLogger(appender);
    }
  }

  @Test
  void errorLogWritesOneErrorLineInsideTheRequestInPlaceOfItsAccessLine() {
    ListAppender<ILoggingEvent> appender = attachToAccessLogger();
    try {
      IllegalStateException boom = new IllegalStateException("boom");
      TracedRequest quiet = tracing.start(FakeRequest.get("/api/v1/users/1"), FakeRequest.ACCESSOR);
      quiet.end(500, boom, null);
      assertThat(appender.list).isEmpty(); // off by default
      assertThat(io.conea.metrics.internal.LoggedErrors.alreadyLogged(boom)).isFalse();

      HttpServerTracing logging =
          HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
              .accessLog(true)
              .errorLog(true)
              .build();
      TracedRequest failed =
          logging.start(FakeRequest.get("/api/v1/users/2"), FakeRequest.ACCESSOR);
      failed.end(500, boom, null);
      TracedRequest served =
          logging.start(FakeRequest.get("/api/v1/users/3"), FakeRequest.ACCESSOR);
      served.end(200, null, null);

      // One line per request: the failed one's is its error line, the other its access line.
      assertThat(appender.list).hasSize(2);
      ILoggingEvent error = appender.list.get(0);
      assertThat(error.getLevel()).isEqualTo(ch.qos.logback.classic.Level.ERROR);
      Map<String, Object> keyValues =
          error.getKeyValuePairs().stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
      assertThat(keyValues)
          .containsEntry("method", "GET")
          .containsEntry("path", "/api/v1/users/2")
          .containsEntry("status", 500);
      assertThat(keyValues.get("duration_ms")).isInstanceOf(Long.class);
      assertThat(error.getThrowableProxy().getMessage()).isEqualTo("boom");
      // Written inside the request's scope, though ended outside it.
      assertThat(error.getMDCPropertyMap())
          .containsEntry("trace_id", failed.span().getSpanContext().getTraceId())
          .containsEntry("span_id", failed.span().getSpanContext().getSpanId());
      assertThat(appender.list.get(1).getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO);
      // Noted, so that a container's later report of the same exception can be dropped.
      assertThat(io.conea.metrics.internal.LoggedErrors.alreadyLogged(boom)).isTrue();
      assertThat(
              io.conea.metrics.internal.LoggedErrors.alreadyLogged(new RuntimeException("x", boom)))
          .isTrue();
      assertThat(
              io.conea.metrics.internal.LoggedErrors.alreadyLogged(new IllegalStateException("x")))
          .isFalse();
    } finally {
      detachFromAccessLogger(appender);
    }
  }

  private static ListAppender<ILoggingEvent> attachToAccessLogger() {
    Logger access = (Logger) LoggerFactory.getLogger(HttpServerTracing.ACCESS_LOGGER_NAME);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    access.addAppender(appender);
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    return appender;
  }

  private static void detachFromAccessLogger(ListAppender<ILoggingEvent> appender) {
    Logger access = (Logger) LoggerFactory.getLogger(HttpServerTracing.ACCESS_LOGGER_NAME);
    access.detachAppender(appender);
    access.setLevel(null);
  }

  @Test
  void failingAccessorResolverAndRegistryNeverReachTheCaller() {
    HttpServerRequestAccessor<FakeRequest> broken =
        new HttpServerRequestAccessor<>() {
          @Override
          public String method(FakeRequest request) {
            throw new IllegalStateException("method");
          }

          @Override
          public String path(FakeRequest request) {
            throw new IllegalStateException("path");
          }

          @Override
          public String query(FakeRequest request) {
            throw new IllegalStateException("query");
          }

          @Override
          public String scheme(FakeRequest request) {
            throw new IllegalStateException("scheme");
          }

          @Override
          public String protocol(FakeRequest request) {
            throw new IllegalStateException("protocol");
          }

          @Override
          public String peerAddress(FakeRequest request) {
            throw new IllegalStateException("peer");
          }

          @Override
          public String get(FakeRequest request, String key) {
            throw new IllegalStateException("header");
          }
        };
    MeterRegistry throwing = new ThrowingRegistry();
    HttpServerTracing fragile =
        HttpServerTracing.builder(telemetry.api(), ConeaMetrics.builder(throwing).build())
            .routes(
                (method, path) -> {
                  throw new IllegalStateException("routes");
                })
            .build();

    for (int i = 0; i < 3; i++) {
      TracedRequest traced = fragile.start(FakeRequest.get("/x"), broken);
      try (Scope scope = traced.makeCurrent()) {
        assertThat(MDC.get("method")).isEqualTo("_OTHER");
      }
      traced.end(200, null, null);
      fragile.connectionOpened();
      fragile.connectionClosed();
    }
    assertThat(fragile.instrumentationFailures()).isPositive();
    assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
  }

  @Test
  void linkageErrorsFromOlderLibrariesNeverReachTheCaller() {
    // What a class path older than conea supports throws: missing methods, abstract ones.
    HttpServerRequestAccessor<FakeRequest> linkageBroken =
        new HttpServerRequestAccessor<>() {
          @Override
          public String method(FakeRequest request) {
            return request.method;
          }

          @Override
          public String path(FakeRequest request) {
            return request.path;
          }

          @Override
          public String query(FakeRequest request) {
            throw new NoSuchMethodError("query");
          }

          @Override
          public String scheme(FakeRequest request) {
            return "http";
          }

          @Override
          public String protocol(FakeRequest request) {
            throw new IncompatibleClassChangeError("protocol");
          }

          @Override
          public String peerAddress(FakeRequest request) {
            return "127.0.0.1";
          }

          @Override
          public String get(FakeRequest request, String key) {
            throw new NoSuchMethodError("header " + key);
          }
        };
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                new SpanProcessor() {
                  @Override
                  public void onStart(Context parentContext, ReadWriteSpan span) {
                    throw new AbstractMethodError("onStart");
                  }

                  @Override
                  public boolean isStartRequired() {
                    return true;
                  }

                  @Override
                  public void onEnd(ReadableSpan span) {}

                  @Override
                  public boolean isEndRequired() {
                    return false;
                  }
                })
            .build();
    MeterRegistry registry = new SimpleMeterRegistry();
    ConeaMetrics metrics = ConeaMetrics.create(registry);
    try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider).build()) {
      HttpServerTracing fragile =
          HttpServerTracing.builder(sdk, metrics)
              .routes(
                  (method, path) -> {
                    throw new NoClassDefFoundError("routes");
                  })
              .build();
      for (int i = 0; i < 3; i++) {
        TracedRequest traced = fragile.start(FakeRequest.get("/api/v1/users/" + i), linkageBroken);
        try (Scope scope = traced.makeCurrent()) {
          assertThat(MDC.get("method")).isEqualTo("GET");
        }
        traced.end(200, null, null);
      }
      assertThat(fragile.instrumentationFailures()).isPositive();
    }
    // Every request is still counted, with the status it was answered with.
    assertThat(
            registry.get("http.requests").tags("method", "GET", "status", "200").counter().count())
        .isEqualTo(3);
    assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
  }

  @Test
  void accessorFailingAfterTheSpanStartedStillEndsTheSpanExactlyOnceAndWarnsOnce() {
    Logger logger = (Logger) LoggerFactory.getLogger("io.conea.tracing");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      List<Set<String>> failing =
          List.of(
              Set.of("query"),
              Set.of("user-agent"),
              Set.of("peerAddress"),
              Set.of("protocol"),
              Set.of("query", "peerAddress", "protocol"));
      for (Set<String> parts : failing) {
        telemetry.spans.reset();
        long failuresBefore = tracing.instrumentationFailures();
        double countedBefore = telemetry.requests("GET", "/api/v1/users/{id}", "200");

        TracedRequest traced =
            tracing.start(
                new FakeRequest("GET", "/api/v1/users/1", "page=1").header("User-Agent", "ua"),
                failingOnly(parts));
        traced.end(200, null, null);

        assertThat(telemetry.finishedSpans()).as("failing %s", parts).hasSize(1);
        SpanData span = telemetry.finishedSpans().get(0);
        assertThat(span.getSpanId()).isEqualTo(traced.span().getSpanContext().getSpanId());
        assertThat(span.getName()).isEqualTo("GET /api/v1/users/{id}");
        assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
            .isEqualTo(200L);
        assertThat(tracing.instrumentationFailures()).isEqualTo(failuresBefore + 1);
        assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200"))
            .isEqualTo(countedBefore + 1);
      }
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
          .hasSize(1);
    } finally {
      logger.detachAppender(appender);
    }
  }

  /** The fake request's accessor, except that the named parts throw. */
  private static HttpServerRequestAccessor<FakeRequest> failingOnly(Set<String> parts) {
    HttpServerRequestAccessor<FakeRequest> real = FakeRequest.ACCESSOR;
    return new HttpServerRequestAccessor<>() {
      private <T> T check(String part, T value) {
        if (parts.contains(part)) {
          throw new IllegalStateException(part);
        }
        return value;
      }

      @Override
      public String method(FakeRequest request) {
        return check("method", real.method(request));
      }

      @Override
      public String path(FakeRequest request) {
        return check("path", real.path(request));
      }

      @Override
      public String query(FakeRequest request) {
        return check("query", real.query(request));
      }

      @Override
      public String scheme(FakeRequest request) {
        return check("scheme", real.scheme(request));
      }

      @Override
      public String protocol(FakeRequest request) {
        return check("protocol", real.protocol(request));
      }

      @Override
      public String peerAddress(FakeRequest request) {
        return check("peerAddress", real.peerAddress(request));
      }

      @Override
      public String get(FakeRequest request, String key) {
        return check(key.toLowerCase(java.util.Locale.ROOT), real.get(request, key));
      }
    };
  }

  @Test
  void builderRejectsInvalidOptions() {
    HttpServerTracing.Builder builder =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics);
    assertThatThrownBy(() -> builder.maxPendingRequestsPerConnection(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPendingRequestsPerConnection");
    assertThatThrownBy(() -> builder.userIdHeader("X User"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.routes(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("routes");
    assertThatThrownBy(() -> HttpServerTracing.create(null, telemetry.metrics))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void tenThousandMutatedPropagationHeadersNeverThrowAndEveryRequestIsCounted() {
    Random random = new Random(42);
    String[] seeds = {
      "00-" + PARENT_TRACE_ID + "-" + PARENT_SPAN_ID + "-01",
      "vendor1=opaque,rojo=00f067aa0ba902b7",
      "abcdef0123456789:1234567890abcdef:0:1",
      "userId=alice,serverNode=DF%2028,isProduction=false"
    };
    String[] headers = {"traceparent", "tracestate", "uber-trace-id", "baggage"};
    int requests = 10_000;
    for (int i = 0; i < requests; i++) {
      FakeRequest request = FakeRequest.get("/api/v1/users/" + i);
      for (int h = 0; h < headers.length; h++) {
        request.header(headers[h], Mutations.mutate(seeds[h], random));
      }
      TracedRequest traced = tracing.start(request, FakeRequest.ACCESSOR);
      try (Scope scope = traced.makeCurrent()) {
        assertThat(MDC.get("path")).startsWith("/api/v1/users/");
      }
      traced.end(200, null, null);
    }
    assertThat(telemetry.requests("GET", "/api/v1/users/{id}", "200")).isEqualTo(requests);
    assertThat(telemetry.finishedSpans()).hasSize(requests);
  }

  /** A registry whose every meter creation fails, as a broken backend would. */
  private static final class ThrowingRegistry extends SimpleMeterRegistry {
    @Override
    protected io.micrometer.core.instrument.Timer newTimer(
        Meter.Id id,
        DistributionStatisticConfig distributionStatisticConfig,
        PauseDetector pauseDetector) {
      throw new IllegalStateException("registry down");
    }

    @Override
    protected io.micrometer.core.instrument.Counter newCounter(Meter.Id id) {
      throw new IllegalStateException("registry down");
    }
  }
}
