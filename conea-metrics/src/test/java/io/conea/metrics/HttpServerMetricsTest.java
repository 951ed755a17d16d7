package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpServerMetricsTest {

  private static final long MS = 1_000_000L;
  private static final String USER = "/api/v1/users/{id}";

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();

  @AfterEach
  void close() {
    prometheus.close();
  }

  private ConeaMetrics.Builder builder() {
    return ConeaMetrics.builder(prometheus.registry());
  }

  private HttpServerMetrics http() {
    return builder().build().http();
  }

  @Test
  void countsRequestsByMethodRouteTemplateAndStatus() {
    HttpServerMetrics http = http();
    http.record("GET", USER, "/api/v1/users/1", 200, 3 * MS);
    http.record("GET", USER, "/api/v1/users/2", 200, 3 * MS);
    http.record("GET", USER, "/api/v1/users/3", 500, 3 * MS);
    http.record("POST", "/api/v1/users", "/api/v1/users", 201, 3 * MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("http_requests_total"))
        .containsExactly(Set.of("method", "endpoint", "status"));
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "200"))
        .isEqualTo(2);
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "500"))
        .isEqualTo(1);
    assertThat(
            samples.value(
                "http_requests_total",
                "method",
                "POST",
                "endpoint",
                "/api/v1/users",
                "status",
                "201"))
        .isEqualTo(1);
    assertThat(samples.sum("http_requests_total")).isEqualTo(4);
    assertThat(samples.comments())
        .contains(
            "# HELP http_requests_total Total number of HTTP requests",
            "# TYPE http_requests_total counter");
  }

  @Test
  void durationHistogramHasExactlyTheGuideBuckets() {
    HttpServerMetrics http = http();
    http.record("GET", USER, "/x", 200, 3 * MS);
    http.record("GET", USER, "/x", 200, 30 * MS);
    http.record("GET", USER, "/x", 200, 700 * MS);
    http.record("GET", USER, "/x", 200, 20_000 * MS);

    Samples samples = Samples.scrape(prometheus);
    List<Samples.Sample> buckets = samples.named("http_request_duration_seconds_bucket");
    assertThat(buckets)
        .extracting(s -> s.labels().get("le"))
        .containsExactly(
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
            "+Inf");
    assertThat(buckets)
        .extracting(Samples.Sample::value)
        .containsExactly(1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0);
    assertThat(samples.labelKeys("http_request_duration_seconds_bucket"))
        .containsExactly(Set.of("method", "endpoint", "le"));
    assertThat(
            samples.value("http_request_duration_seconds_count", "method", "GET", "endpoint", USER))
        .isEqualTo(4);
    assertThat(
            samples.value("http_request_duration_seconds_sum", "method", "GET", "endpoint", USER))
        .isCloseTo(20.733, within(1e-9));
    // Recorded by the Prometheus client's histogram: no Micrometer _max gauge beside it.
    assertThat(samples.names()).doesNotContain("http_request_duration_seconds_max");
    assertThat(samples.comments())
        .contains(
            "# HELP http_request_duration_seconds HTTP request latency",
            "# TYPE http_request_duration_seconds histogram");
  }

  @Test
  void otherRegistriesRecordTheDurationThroughMicrometer() {
    MeterRegistry simple = new SimpleMeterRegistry();
    ConeaMetrics.create(simple).http().record("GET", USER, "/x", 200, 30 * MS);
    assertThat(simple.get("http.request.duration").tag("endpoint", USER).timer().count())
        .isEqualTo(1);

    // A composite over a Prometheus registry: Micrometer's timer, _max included, as before.
    CompositeMeterRegistry composite = new CompositeMeterRegistry();
    composite.add(prometheus.registry());
    ConeaMetrics.create(composite).http().record("GET", USER, "/x", 200, 30 * MS);
    Samples samples = Samples.scrape(prometheus);
    assertThat(
            samples.value("http_request_duration_seconds_count", "method", "GET", "endpoint", USER))
        .isEqualTo(1);
    assertThat(
            samples.value("http_request_duration_seconds_max", "method", "GET", "endpoint", USER))
        .isEqualTo(0.03);
  }

  @Test
  void commonTagsOfTheRegistryReachTheHistogramToo() {
    prometheus.registry().config().commonTags("application", "shop");
    http().record("GET", USER, "/x", 200, 30 * MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("http_request_duration_seconds_bucket"))
        .containsExactly(Set.of("application", "method", "endpoint", "le"));
    assertThat(samples.labelKeys("http_requests_total"))
        .containsExactly(Set.of("application", "method", "endpoint", "status"));
  }

  @Test
  void twoMetricsOnOneRegistryShareTheHistogram() {
    http().record("GET", USER, "/x", 200, 30 * MS);
    http().record("GET", USER, "/x", 200, 30 * MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(
            samples.value("http_request_duration_seconds_count", "method", "GET", "endpoint", USER))
        .isEqualTo(2);
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "200"))
        .isEqualTo(2);
  }

  @Test
  void nativeHistogramsAreInTheProtobufScrapeOnlyWhenAskedFor() {
    http().record("GET", USER, "/x", 200, 30 * MS);
    String classic = protobufAsText(prometheus);
    assertThat(classic).contains("upper_bound: 0.005").doesNotContain("positive_span");

    try (PrometheusMetrics other = PrometheusMetrics.builder().jvmMetrics(false).build()) {
      HttpServerMetrics http =
          ConeaMetrics.builder(other.registry()).nativeHistograms(true).build().http();
      http.record("GET", USER, "/x", 200, 30 * MS);
      http.record("GET", USER, "/x", 200, 31 * MS);
      String both = protobufAsText(other);
      assertThat(both)
          .contains("upper_bound: 0.005", "schema: ", "positive_span", "sample_count: 2");
      // The text formats keep the classic buckets, unchanged.
      assertThat(Samples.scrape(other).named("http_request_duration_seconds_bucket")).hasSize(12);
    }
  }

  private static String protobufAsText(PrometheusMetrics prometheus) {
    Scrape scrape = prometheus.scrape(null, null, "debug=prometheus-protobuf");
    assertThat(scrape.status()).isEqualTo(200);
    return new String(scrape.body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void methodsOutsideTheStandardNineAreRecordedAsOther() {
    HttpServerMetrics http = http();
    for (String method :
        List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")) {
      http.record(method, USER, "/", 200, MS);
    }
    http.record("get", USER, "/", 200, MS);
    http.record("PROPFIND", USER, "/", 200, MS);
    http.record("", USER, "/", 200, MS);
    http.record(null, USER, "/", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "method"))
        .containsExactlyInAnyOrder(
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
            "_OTHER");
    assertThat(
            samples.value(
                "http_requests_total", "method", "_OTHER", "endpoint", USER, "status", "200"))
        .isEqualTo(4);
  }

  @Test
  void unmatchedNotFoundRequestsShareOneEndpointValue() {
    HttpServerMetrics http = http();
    http.record("GET", null, "/wp-admin/setup.php", 404, MS);
    http.record("GET", null, "/.env", 404, MS);
    http.record("GET", null, null, 404, MS);
    http.record("GET", USER, "/api/v1/users/7", 404, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "endpoint"))
        .containsExactlyInAnyOrder("NOT_FOUND", USER);
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", "NOT_FOUND", "status", "404"))
        .isEqualTo(3);
  }

  @Test
  void pathsWithoutARouteHaveIdentifiersReplacedAndQueriesDropped() {
    HttpServerMetrics http = http();
    http.record("GET", null, "/api/v1/users/42", 200, MS);
    http.record("GET", null, "/api/v1/users/" + UUID.randomUUID(), 200, MS);
    http.record("GET", null, "/api/v1/users/5f2b9c0e7d1a4e3fb6c8a9d0", 200, MS);
    http.record("GET", null, "/api/v1/users/Ab3dEf9hIj2kLm5nOp?expand=true", 200, MS);
    http.record("GET", null, "/api/v1/users/42/", 200, MS);
    http.record("GET", null, "//api//v1/users/42#top", 200, MS);
    http.record("GET", null, "/api/v1/users/42;jsessionid=abc", 200, MS);
    http.record("GET", null, "http://example.test:8080/api/v1/users/42?x", 200, MS);
    http.record("GET", null, "/health", 200, MS);
    http.record("GET", null, "/health?verbose", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "endpoint"))
        .containsExactlyInAnyOrder(USER, "/health");
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "200"))
        .isEqualTo(8);
  }

  @Test
  void statusesOutsideOneHundredToFiveNinetyNineAreRecordedAsOther() {
    HttpServerMetrics http = http();
    for (int status : new int[] {100, 599, -1, 0, 99, 600, 1000, Integer.MIN_VALUE}) {
      http.record("GET", USER, "/", status, MS);
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "status"))
        .containsExactlyInAnyOrder("100", "599", "_OTHER");
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "_OTHER"))
        .isEqualTo(6);
  }

  @Test
  void routesDeclaredAfterTheCapFilledStillKeepTheirOwnEndpoint() {
    HttpServerMetrics http = builder().maxEndpoints(3).build().http();
    for (String scanned : new String[] {"/admin", "/wp-login.php", "/.env", "/cgi-bin/x"}) {
      http.record("GET", null, scanned, 401, MS);
    }

    http.declareRoutes(java.util.List.of(USER));
    http.declareRoutes(java.util.List.of(USER));
    http.record("GET", USER, "/api/v1/users/7", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", USER, "status", "200"))
        .isEqualTo(1);
    assertThat(samples.sum("http_requests_total")).isEqualTo(5);
  }

  @Test
  void declaringABlankOrOverLongRouteFailsWithItsReason() {
    HttpServerMetrics http = http();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> http.declareRoutes(java.util.List.of(" ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("route templates must not be blank");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> http.declareRoutes(java.util.List.of("/" + "a".repeat(300))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 256 characters");
  }

  @Test
  void endpointsPastTheCapCollapseIntoOtherWithOneWarning() {
    HttpServerMetrics http = builder().maxEndpoints(3).build().http();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (int i = 0; i < 10; i++) {
        http.record("GET", "/route/" + (char) ('a' + i), "/", 200, MS);
      }

      assertThat(log.warnings()).hasSize(1);
      assertThat(log.warnings().get(0)).contains("More than 3 distinct endpoint values", "_OTHER");
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "endpoint"))
        .containsExactlyInAnyOrder("/route/a", "/route/b", "/route/c", "_OTHER");
    assertThat(
            samples.value(
                "http_requests_total", "method", "GET", "endpoint", "_OTHER", "status", "200"))
        .isEqualTo(7);
  }

  @Test
  void declaredRoutesKeepTheirValueWhenTheCapIsFull() {
    HttpServerMetrics http =
        builder().maxEndpoints(1).routes(USER, "/api/v1/orders").build().http();
    http.record("GET", null, "/scanner/probe-one", 401, MS);
    http.record("GET", null, "/scanner/probe-two", 401, MS);
    http.record("GET", USER, "/api/v1/users/1", 200, MS);
    http.record("GET", "/api/v1/orders", "/api/v1/orders", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("http_requests_total", "endpoint"))
        .containsExactlyInAnyOrder("/scanner/probe-one", "_OTHER", USER, "/api/v1/orders");
  }

  @Test
  void negativeDurationIsCountedAsZeroWithOneWarning() {
    HttpServerMetrics http = http();
    try (LogCapture log = new LogCapture(HttpServerMetrics.class)) {
      http.record("GET", USER, "/", 200, -5);
      http.record("GET", USER, "/", 200, Long.MIN_VALUE);

      assertThat(log.warnings()).hasSize(1);
      assertThat(log.warnings().get(0)).contains("negative HTTP request duration");
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(
            samples.value(
                "http_request_duration_seconds_bucket",
                "method",
                "GET",
                "endpoint",
                USER,
                "le",
                "0.005"))
        .isEqualTo(2);
    assertThat(
            samples.value("http_request_duration_seconds_sum", "method", "GET", "endpoint", USER))
        .isEqualTo(0);
  }

  @Test
  void garbageArgumentsAreCountedAndNeverThrow() {
    HttpServerMetrics http = http();
    String huge = "/x".repeat(500_000);
    List<String> garbage =
        List.of(
            "",
            " ",
            "\n\t",
            huge,
            "\"quoted\\back\nslash\"",
            "/\u0000/\uD800",
            "/日本語/パス",
            "?",
            "#",
            ";",
            "//",
            "http://",
            "HTTPS://host",
            "{id}",
            "_OTHER",
            "NOT_FOUND");
    int recorded = 0;
    for (String value : garbage) {
      http.record(value, value, value, 200, MS);
      http.record(value, null, value, 200, MS);
      http.record(value, null, value, 404, MS);
      http.record(value, value, null, -7, -1);
      recorded += 4;
    }
    http.record(null, null, null, 0, 0);
    recorded++;

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.sum("http_requests_total")).isEqualTo(recorded);
    assertThat(samples.sum("http_request_duration_seconds_count")).isEqualTo(recorded);
    assertThat(samples.labelValues("http_requests_total", "endpoint"))
        .allSatisfy(endpoint -> assertThat(endpoint.length()).isLessThanOrEqualTo(256));
  }

  @Test
  void aMillionRandomRequestsStayBoundedAndAreAllCounted() {
    List<String> routes =
        List.of(USER, "/api/v1/users", "/api/v1/orders/{id}", "/api/v1/ai/chat", "/health");
    int maxEndpoints = 3;
    HttpServerMetrics http =
        builder().maxEndpoints(maxEndpoints).routes(routes.toArray(new String[0])).build().http();
    String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "get", "BREW", "M-SEARCH"};
    int[] statuses = {200, 201, 204, 301, 400, 401, 403, 404, 500, 503, 0, 99, 600, 999};
    Random random = new Random(42);
    int total = 1_000_000;
    for (int i = 0; i < total; i++) {
      String method = methods[random.nextInt(methods.length)];
      int status = statuses[random.nextInt(statuses.length)];
      long duration = (long) (random.nextDouble() * 12_000) * MS;
      switch (random.nextInt(4)) {
        case 0:
          http.record(
              method, routes.get(random.nextInt(routes.size())), "/ignored", status, duration);
          break;
        case 1:
          http.record(method, null, "/api/v1/users/" + randomId(random), status, duration);
          break;
        case 2:
          http.record(method, null, randomPath(random), 404, duration);
          break;
        default:
          http.record(method, null, randomPath(random), status == 404 ? 200 : status, duration);
          break;
      }
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.sum("http_requests_total")).isEqualTo(total);
    assertThat(samples.sum("http_request_duration_seconds_count")).isEqualTo(total);
    Set<String> endpoints = samples.labelValues("http_requests_total", "endpoint");
    assertThat(endpoints).containsAll(routes).contains("NOT_FOUND", "_OTHER");
    assertThat(endpoints).hasSizeLessThanOrEqualTo(routes.size() + maxEndpoints + 2);
    assertThat(samples.labelValues("http_requests_total", "method"))
        .containsExactlyInAnyOrder("GET", "POST", "PUT", "DELETE", "PATCH", "_OTHER");
    assertThat(samples.labelValues("http_requests_total", "status"))
        .containsExactlyInAnyOrder(
            "200", "201", "204", "301", "400", "401", "403", "404", "500", "503", "_OTHER");
  }

  private static String randomId(Random random) {
    switch (random.nextInt(4)) {
      case 0:
        return Integer.toString(random.nextInt(1_000_000));
      case 1:
        return new UUID(random.nextLong(), random.nextLong()).toString();
      case 2:
        return Long.toHexString(random.nextLong() | Long.MIN_VALUE) + "abc";
      default:
        return "tok" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36) + "x9";
    }
  }

  private static String randomPath(Random random) {
    StringBuilder path = new StringBuilder();
    int length = random.nextInt(40);
    for (int i = 0; i < length; i++) {
      path.append(
          (char) (random.nextBoolean() ? '/' + random.nextInt(80) : random.nextInt(0x3000)));
    }
    return path.toString();
  }

  @Test
  void aDurationOnABucketBoundIsInThatBucketAndTheSumIsExact() {
    HttpServerMetrics http = http();
    // Exactly on the bounds 5 ms and 10 s, one nanosecond above each, and 0.
    long[] durations = {5 * MS, 5 * MS + 1, 10_000 * MS, 10_000 * MS + 1, 0};
    for (long duration : durations) {
      http.record("GET", USER, "/x", 200, duration);
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.named("http_request_duration_seconds_bucket"))
        .extracting(Samples.Sample::value)
        .containsExactly(2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 4.0, 5.0);
    assertThat(
            samples.value("http_request_duration_seconds_sum", "method", "GET", "endpoint", USER))
        .isEqualTo(20.010000002);
  }

  @Test
  void eightThreadsRecordingConcurrentlyGiveExactTotals() throws Exception {
    HttpServerMetrics http = http();
    String[] routes = {USER, "/api/v1/orders/{id}", "/health"};
    String[] methods = {"GET", "POST", "PATCH"};
    int[] statuses = {200, 404, 500, 503};
    int threads = 8;
    int perThread = 100_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread worker =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                for (int i = 0; i < perThread; i++) {
                  http.record(
                      methods[i % 3],
                      routes[(i / 3) % 3],
                      "/",
                      statuses[(i / 9) % 4],
                      i % 1000 * MS);
                }
              });
      worker.start();
      workers.add(worker);
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join(TimeUnit.MINUTES.toMillis(1));
      assertThat(worker.isAlive()).isFalse();
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.sum("http_requests_total")).isEqualTo(threads * perThread);
    assertThat(samples.sum("http_request_duration_seconds_count")).isEqualTo(threads * perThread);
    // i % 1000 ms: 0-5 ms (6 values of 1000) in the first bucket, 501-1000 above 0.5 s.
    assertThat(
            samples.named("http_request_duration_seconds_bucket").stream()
                .filter(sample -> "0.005".equals(sample.labels().get("le")))
                .mapToDouble(Samples.Sample::value)
                .sum())
        .isEqualTo(threads * (perThread / 1000) * 6.0);
    assertThat(samples.sum("http_request_duration_seconds_sum"))
        .isCloseTo(threads * (perThread / 1000) * 499.5, within(1e-6));
    // i runs over 100 000 values; the pattern repeats every 36, so count exactly per series.
    for (int m = 0; m < 3; m++) {
      for (int r = 0; r < 3; r++) {
        for (int s = 0; s < 4; s++) {
          long expected = 0;
          for (int i = 0; i < perThread; i++) {
            if (i % 3 == m && (i / 3) % 3 == r && (i / 9) % 4 == s) {
              expected++;
            }
          }
          assertThat(
                  samples.value(
                      "http_requests_total",
                      "method",
                      methods[m],
                      "endpoint",
                      routes[r],
                      "status",
                      Integer.toString(statuses[s])))
              .isEqualTo(expected * threads);
        }
      }
    }
  }

  @Test
  void recordingAKnownSeriesAllocatesNothing() {
    // Three routes and two paths fill the cap, so the fourth route takes the overflow path.
    HttpServerMetrics http = builder().maxEndpoints(5).build().http();
    String[] methods = {"GET", "POST", "PUT", "DELETE", "BREW"};
    String[] routes = {USER, "/api/v1/orders/{id}", "/api/v1/ai/chat", "/over/the/cap"};
    String[] paths = {"/health", "/api/v1/status"};
    int[] statuses = {200, 201, 404, 500, 700};
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    assertThat(threads.isThreadAllocatedMemorySupported()).isTrue();
    threads.setThreadAllocatedMemoryEnabled(true);
    long thread = Thread.currentThread().getId();
    int calls = 100_000;

    for (int i = 0; i < 2 * calls; i++) {
      recordOne(http, methods, routes, paths, statuses, i);
    }
    // The least of several rounds: the JIT's escape analysis may come late on a busy machine.
    long allocated = Long.MAX_VALUE;
    for (int round = 0; round < 20 && allocated >= calls; round++) {
      long before = threads.getThreadAllocatedBytes(thread);
      for (int i = 0; i < calls; i++) {
        recordOne(http, methods, routes, paths, statuses, i);
      }
      allocated = Math.min(allocated, threads.getThreadAllocatedBytes(thread) - before);
    }

    assertThat((double) allocated / calls).as("bytes allocated per call").isLessThan(1.0);
    assertThat(Samples.scrape(prometheus).labelValues("http_requests_total", "endpoint"))
        .contains("_OTHER", "/health", USER)
        .doesNotContain("/over/the/cap");
  }

  private static void recordOne(
      HttpServerMetrics http,
      String[] methods,
      String[] routes,
      String[] paths,
      int[] statuses,
      int i) {
    String method = methods[i % methods.length];
    int status = statuses[(i / 7) % statuses.length];
    long duration = (i % 5000) * 1000L;
    if (i % 4 == 3) {
      // No route: an already-clean path is looked up as is.
      http.record(method, null, paths[(i / 4) % paths.length], status, duration);
    } else {
      http.record(method, routes[(i / 4) % routes.length], "/ignored", status, duration);
    }
  }

  @Test
  void seriesCountIsBoundedByTheLabelSets() {
    HttpServerMetrics http = builder().maxEndpoints(2).build().http();
    Set<String> seen = new HashSet<>();
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      String route = "/r/" + random.nextInt(50);
      seen.add(route);
      http.record("X" + random.nextInt(100), route, "/", random.nextInt(2000) - 500, MS);
    }

    Samples samples = Samples.scrape(prometheus);
    // 2 admitted endpoints + _OTHER; 1 method (_OTHER); at most 501 status values.
    assertThat(seen).hasSizeGreaterThan(3);
    assertThat(samples.labelValues("http_requests_total", "endpoint")).hasSize(3);
    assertThat(samples.named("http_requests_total")).hasSizeLessThanOrEqualTo(3 * 501);
    assertThat(samples.sum("http_requests_total")).isEqualTo(20_000);
  }
}
