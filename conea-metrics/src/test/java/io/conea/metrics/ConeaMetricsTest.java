package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConeaMetricsTest {

  private static final long MS = 1_000_000L;

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();

  @AfterEach
  void close() {
    prometheus.close();
  }

  private ConeaMetrics metrics() {
    return ConeaMetrics.builder(prometheus.registry()).build();
  }

  @Test
  void scrapeHasEveryGuideMeterAndNothingElse() {
    ConeaMetrics metrics = metrics();
    metrics.http().record("POST", "/api/v1/ai/chat", "/api/v1/ai/chat", 200, 245 * MS);
    metrics.ai().record(AiCallOutcome.success("openai", "gpt-4", 245 * MS, 1000, 250, 0.0375));
    metrics.recordJob("csv-import", true);
    metrics.recordUserActivity();
    metrics.connectionOpened();

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.names())
        .containsExactlyInAnyOrder(
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "http_request_duration_seconds_count",
            "http_request_duration_seconds_sum",
            "ai_model_requests_total",
            "ai_tokens_total",
            "ai_processing_duration_seconds_bucket",
            "ai_processing_duration_seconds_count",
            "ai_processing_duration_seconds_sum",
            "ai_cost_usd_total",
            "data_processing_jobs_total",
            "user_activity_total",
            "tcp_connections");
    assertThat(samples.comments())
        .contains(
            "# HELP http_requests_total Total number of HTTP requests",
            "# HELP http_request_duration_seconds HTTP request latency",
            "# HELP ai_model_requests_total Total AI model requests",
            "# HELP data_processing_jobs_total Total data processing jobs",
            "# TYPE data_processing_jobs_total counter",
            "# TYPE user_activity_total counter",
            "# TYPE tcp_connections gauge");
    assertThat(samples.comments())
        .filteredOn(c -> c.startsWith("# HELP"))
        .allSatisfy(help -> assertThat(help.split(" ", 4)[3]).isNotBlank());
  }

  @Test
  void jobsAreCountedByTypeAndOutcome() {
    ConeaMetrics metrics = metrics();
    metrics.recordJob("csv-import", true);
    metrics.recordJob("csv-import", true);
    metrics.recordJob("report", false);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("data_processing_jobs_total"))
        .containsExactly(Set.of("job_type", "status"));
    assertThat(
            samples.value(
                "data_processing_jobs_total", "job_type", "csv-import", "status", "success"))
        .isEqualTo(2);
    // Both outcomes exist from the first job on, so failure-rate queries see 0 rather than nothing.
    assertThat(
            samples.value(
                "data_processing_jobs_total", "job_type", "csv-import", "status", "failure"))
        .isEqualTo(0);
    assertThat(
            samples.value("data_processing_jobs_total", "job_type", "report", "status", "failure"))
        .isEqualTo(1);
  }

  @Test
  void jobTypesPastTheCapAreRecordedAsOtherWithOneWarning() {
    ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).maxLabelValues(2).build();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (int i = 0; i < 50; i++) {
        metrics.recordJob("job-" + i, i % 2 == 0);
      }
      metrics.recordJob(null, true);
      metrics.recordJob("  ", true);

      assertThat(log.warnings()).hasSize(2);
      assertThat(log.warnings().get(0))
          .contains(
              "data_processing_jobs_total reached its cap of 3 label combinations of job_type",
              "job_type=\"job-2\"",
              "conea_label_overflow_total{meter=\"data_processing_jobs_total\"}",
              "Raise maxLabelValues");
      assertThat(log.warnings().get(1)).contains("null, blank or over-long");
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("data_processing_jobs_total", "job_type"))
        .containsExactlyInAnyOrder("job-0", "job-1", "_OTHER");
    assertThat(samples.sum("data_processing_jobs_total")).isEqualTo(52);
    // The invalid values are not overflow: only the 48 job types past the cap are counted.
    assertThat(samples.value("conea_label_overflow_total", "meter", "data_processing_jobs_total"))
        .isEqualTo(48);
  }

  @Test
  void jobTypesAreBoundedByTheCapOnLabelCombinationsWithTheOverflowCounted() {
    ConeaMetrics metrics =
        ConeaMetrics.builder(prometheus.registry()).maxLabelCombinations(10).build();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (int i = 0; i < 1_000; i++) {
        metrics.recordJob("job-" + (i % 100), i % 4 != 0);
      }

      assertThat(log.warnings())
          .singleElement()
          .satisfies(
              w ->
                  assertThat(w)
                      .contains(
                          "data_processing_jobs_total reached its cap of 10 label combinations",
                          "Raise maxLabelCombinations"));
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("data_processing_jobs_total", "job_type")).hasSize(10);
    assertThat(samples.named("data_processing_jobs_total")).hasSize(20);
    assertThat(samples.sum("data_processing_jobs_total")).isEqualTo(1_000);
    assertThat(
            samples.value("data_processing_jobs_total", "job_type", "_OTHER", "status", "success")
                + samples.value(
                    "data_processing_jobs_total", "job_type", "_OTHER", "status", "failure"))
        .isEqualTo(910)
        .isEqualTo(
            samples.value("conea_label_overflow_total", "meter", "data_processing_jobs_total"));
    assertThat(
            samples.value("data_processing_jobs_total", "job_type", "_OTHER", "status", "failure"))
        .isEqualTo(220); // i % 4 == 0 for 250 of the 1,000, 30 of them for kept job types
  }

  @Test
  void noOverflowCounterUntilACapIsReached() {
    ConeaMetrics metrics = metrics();
    metrics.recordJob("etl", true);
    metrics.ai().record(AiCallOutcome.failure("openai", "gpt-4", "Timeout", 1, 1, 1, 0));

    assertThat(Samples.scrape(prometheus).names()).doesNotContain("conea_label_overflow_total");
  }

  @Test
  void userActivityIsCounted() {
    ConeaMetrics metrics = metrics();
    for (int i = 0; i < 3; i++) {
      metrics.recordUserActivity();
    }

    assertThat(Samples.scrape(prometheus).value("user_activity_total")).isEqualTo(3);
  }

  @Test
  void connectionGaugeFollowsOpensAndCloses() {
    ConeaMetrics metrics = metrics();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed();

    assertThat(Samples.scrape(prometheus).value("tcp_connections", "state", "established"))
        .isEqualTo(2);
  }

  @Test
  void twoInstancesOnOneRegistryShareTheConnectionGauge() {
    try (LogCapture log = new LogCapture(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
      ConeaMetrics first = metrics();
      ConeaMetrics second = metrics();
      first.connectionOpened();
      second.connectionOpened();
      second.connectionOpened();
      first.connectionClosed();

      assertThat(Samples.scrape(prometheus).value("tcp_connections", "state", "established"))
          .isEqualTo(2);
      assertThat(log.warnings()).isEmpty();
    }
  }

  @Test
  void moreClosesThanOpensLeaveTheGaugeAtZeroWithOneWarning() {
    ConeaMetrics metrics = metrics();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      metrics.connectionOpened();
      metrics.connectionClosed();
      metrics.connectionClosed();
      metrics.connectionClosed();

      assertThat(log.warnings()).hasSize(1);
      assertThat(log.warnings().get(0)).contains("connectionClosed() was called more often");
    }
    metrics.connectionOpened();
    assertThat(Samples.scrape(prometheus).value("tcp_connections", "state", "established"))
        .isEqualTo(1);
  }

  @Test
  void coneasOwnRegistryHasTheJvmAndProcessMetersOnce() {
    try (LogCapture log = new LogCapture(org.slf4j.Logger.ROOT_LOGGER_NAME);
        PrometheusMetrics own = PrometheusMetrics.create();
        ConeaMetrics metrics = ConeaMetrics.create(own.registry())) {
      Set<String> names = Samples.scrape(own).names();
      assertThat(names)
          .contains(
              "jvm_memory_used_bytes",
              "jvm_gc_memory_allocated_bytes_total",
              "jvm_threads_live_threads",
              "jvm_classes_loaded_classes",
              "system_cpu_logical_processors",
              "process_cpu_usage",
              "process_uptime_seconds",
              "process_start_time_seconds",
              "process_files_open_files")
          .doesNotContain("system_cpu_count", "process_cpu_time_ns_total");
      assertThat(metrics.registry()).isSameAs(own.registry());
      // Its filters go on before its first meter, so Micrometer has nothing to warn about.
      assertThat(log.warnings()).isEmpty();
    }
  }

  @Test
  void theCallersRegistryIsLeftAsFound() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<MeterBinder> binders = jvmBinders();
    binders.forEach(b -> b.bindTo(registry));
    Set<Meter.Id> before = ids(registry);

    try (LogCapture log = new LogCapture(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConeaMetrics metrics = ConeaMetrics.create(registry);
        ConeaMetrics optIn = ConeaMetrics.builder(registry).bindJvmMetrics(true).build()) {
      metrics.recordUserActivity();
      optIn.recordJob("etl", true);

      // Every meter it had is still there under its own name; nothing was bound twice.
      assertThat(ids(registry)).containsAll(before);
      assertThat(registry.find("system.cpu.count").gauge()).isNotNull();
      assertThat(registry.find(JvmMeters.SYSTEM_CPUS).meter()).isNull();
      assertThat(registry.scrape()).contains("process_cpu_time_ns_total");
      assertThat(log.warnings()).isEmpty();
    } finally {
      closeAll(binders);
      registry.close();
    }
  }

  @Test
  @SuppressWarnings("try") // the metrics are built for what building them does to the registry
  void garbageCollectionsAreCountedOnceOnARegistryWithItsOwnBinders() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<MeterBinder> binders = jvmBinders();
    binders.forEach(b -> b.bindTo(registry));
    try (ConeaMetrics metrics = ConeaMetrics.create(registry);
        ConeaMetrics optIn = ConeaMetrics.builder(registry).bindJvmMetrics(true).build()) {
      awaitGcQuiet(registry);
      long pausesBefore = pausesCounted(registry);
      long collectionsBefore = collectionsReported();

      for (int i = 0; i < 3; i++) {
        System.gc();
      }

      long[] counted = awaitGcNotifications(registry, pausesBefore, collectionsBefore);
      assertThat(counted[1]).isGreaterThanOrEqualTo(3);
      assertThat(counted[0]).isEqualTo(counted[1]);
    } finally {
      closeAll(binders);
      registry.close();
    }
  }

  @Test
  @SuppressWarnings("try") // the metrics are built for what building them does to the registry
  void bindJvmMetricsBindsOnlyTheBindersARegistryLacks() throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry();
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    try (ConeaMetrics metrics = ConeaMetrics.builder(registry).bindJvmMetrics(true).build()) {
      assertThat(registry.find("jvm.memory.used").gauges()).isNotEmpty();
      assertThat(registry.find("system.cpu.count").gauge()).isNotNull();
      awaitGcQuiet(registry);
      long pausesBefore = pausesCounted(registry);
      long collectionsBefore = collectionsReported();
      System.gc();
      long[] counted = awaitGcNotifications(registry, pausesBefore, collectionsBefore);
      assertThat(counted[1]).isPositive();
      assertThat(counted[0]).isEqualTo(counted[1]);
    } finally {
      gc.close();
    }
  }

  /**
   * Waits until the pauses counted and the collections the JVM reports since the given readings
   * agree and stay so for 300 ms (GC notifications arrive asynchronously, and a collection may
   * start at any time), or until ten seconds pass; returns both differences.
   */
  private static long[] awaitGcNotifications(
      MeterRegistry registry, long pausesBefore, long collectionsBefore)
      throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    long agreedSince = -1;
    long collections;
    long pauses;
    do {
      collections = collectionsReported() - collectionsBefore;
      pauses = pausesCounted(registry) - pausesBefore;
      if (pauses != collections) {
        agreedSince = -1;
      } else if (agreedSince < 0) {
        agreedSince = System.nanoTime();
      } else if (System.nanoTime() - agreedSince > 300_000_000L) {
        break;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    return new long[] {pauses, collections};
  }

  /**
   * Waits until no GC notification is in flight: the pauses counted and the collections reported
   * stay unchanged for 300 ms. The readings taken after it are a sound starting point.
   */
  private static void awaitGcQuiet(MeterRegistry registry) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    long pauses = pausesCounted(registry);
    long collections = collectionsReported();
    long stableSince = System.nanoTime();
    while (System.nanoTime() - stableSince < 300_000_000L && System.nanoTime() < deadline) {
      Thread.sleep(20);
      long p = pausesCounted(registry);
      long c = collectionsReported();
      if (p != pauses || c != collections) {
        pauses = p;
        collections = c;
        stableSince = System.nanoTime();
      }
    }
  }

  private static List<MeterBinder> jvmBinders() {
    return List.of(
        new JvmMemoryMetrics(),
        new JvmGcMetrics(),
        new JvmThreadMetrics(),
        new ClassLoaderMetrics(),
        new ProcessorMetrics(),
        new UptimeMetrics(),
        new FileDescriptorMetrics());
  }

  private static void closeAll(List<MeterBinder> binders) {
    for (MeterBinder binder : binders) {
      if (binder instanceof AutoCloseable) {
        try {
          ((AutoCloseable) binder).close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private static Set<Meter.Id> ids(MeterRegistry registry) {
    return registry.getMeters().stream().map(Meter::getId).collect(Collectors.toSet());
  }

  /** The pauses Micrometer counted, over every {@code jvm.gc.pause} series. */
  private static long pausesCounted(MeterRegistry registry) {
    return registry.find("jvm.gc.pause").timers().stream().mapToLong(Timer::count).sum();
  }

  /** The collections the JVM reports, without G1's concurrent cycles (not pauses). */
  private static long collectionsReported() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .filter(bean -> !bean.getName().startsWith("G1 Concurrent"))
        .mapToLong(GarbageCollectorMXBean::getCollectionCount)
        .sum();
  }

  @Test
  void jvmMetersCanBeSwitchedOff() {
    metrics().recordUserActivity();

    Set<String> names = Samples.scrape(prometheus).names();
    assertThat(names).noneMatch(n -> n.startsWith("jvm_") || n.startsWith("process_"));
  }

  @Test
  void closeIsIdempotentAndRecordingGoesOnAfterIt() {
    ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).bindJvmMetrics(true).build();
    metrics.close();
    metrics.close();
    metrics.recordUserActivity();
    metrics.http().record("GET", "/a", "/a", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.value("user_activity_total")).isEqualTo(1);
    assertThat(samples.sum("http_requests_total")).isEqualTo(1);
  }

  @Test
  void worksOnAnyMeterRegistry() {
    MeterRegistry registry = new SimpleMeterRegistry();
    ConeaMetrics metrics = ConeaMetrics.builder(registry).build();
    metrics.http().record("GET", "/a", "/a", 200, MS);
    metrics.recordJob("j", true);

    assertThat(registry.get("http.requests").tag("endpoint", "/a").counter().count()).isEqualTo(1);
    assertThat(
            registry
                .get("http.request.duration")
                .tag("method", "GET")
                .timer()
                .takeSnapshot()
                .histogramCounts())
        .hasSize(11);
    assertThat(registry.get("data.processing.jobs").tag("status", "success").counter().count())
        .isEqualTo(1);
  }

  @Test
  void aRegistryThatRejectsMetersNeverMakesRecordingThrow() {
    MeterRegistry registry = new SimpleMeterRegistry();
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                if (id.getName().startsWith("http")) {
                  throw new IllegalStateException("rejected by a broken filter");
                }
                return id;
              }
            });
    ConeaMetrics metrics = ConeaMetrics.builder(registry).build();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      assertThatCode(
              () -> {
                for (int i = 0; i < 100; i++) {
                  metrics.http().record("GET", "/a" + (i % 3), "/", 200, MS);
                }
              })
          .doesNotThrowAnyException();

      assertThat(log.warnings())
          .hasSize(2)
          .allSatisfy(w -> assertThat(w).contains("The registry rejected meter http."));
    }
    metrics.recordJob("still-works", true);
    assertThat(
            registry
                .get("data.processing.jobs")
                .tags("job_type", "still-works", "status", "success")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void configurationErrorsAreRejectedWithTheirReason() {
    MeterRegistry registry = new SimpleMeterRegistry();
    expect(b -> b.maxEndpoints(0), registry, "maxEndpoints must be positive, but was 0");
    expect(b -> b.maxEndpoints(-3), registry, "maxEndpoints must be positive, but was -3");
    expect(b -> b.maxLabelValues(0), registry, "maxLabelValues must be positive, but was 0");
    expect(
        b -> b.maxLabelCombinations(0),
        registry,
        "maxLabelCombinations must be positive, but was 0");
    expect(b -> b.durationBuckets(), registry, "durationBuckets must not be empty");
    expect(
        b -> b.durationBuckets(0.1, 0.1),
        registry,
        "durationBuckets must be strictly increasing, but in [0.1, 0.1] 0.1 follows 0.1");
    expect(
        b -> b.durationBuckets(1, 0.5),
        registry,
        "durationBuckets must be strictly increasing, but in [1.0, 0.5] 0.5 follows 1.0");
    expect(
        b -> b.durationBuckets(0, 1),
        registry,
        "durationBuckets must be positive and finite, but [0.0, 1.0] has 0.0");
    expect(
        b -> b.durationBuckets(-1),
        registry,
        "durationBuckets must be positive and finite, but [-1.0] has -1.0");
    expect(
        b -> b.durationBuckets(1, Double.NaN),
        registry,
        "durationBuckets must be positive and finite, but [1.0, NaN] has NaN");
    expect(
        b -> b.durationBuckets(1, Double.POSITIVE_INFINITY),
        registry,
        "durationBuckets must be positive and finite, but [1.0, Infinity] has Infinity");
    expect(
        b -> b.durationBuckets(1e-10, 2e-10),
        registry,
        "durationBuckets must be at least one nanosecond apart, but [1.0E-10, 2.0E-10] are not");
    expect(
        b -> b.aiDurationBuckets(2, 1),
        registry,
        "aiDurationBuckets must be strictly increasing, but in [2.0, 1.0] 1.0 follows 2.0");
    expect(b -> b.routes("/a", " "), registry, "route templates must not be blank");
    expect(
        b -> b.routes("/" + "a".repeat(300)),
        registry,
        "route templates must be at most 256 characters, but one has 301");
    assertThatThrownBy(() -> ConeaMetrics.builder(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("registry");
    assertThatThrownBy(() -> ConeaMetrics.builder(registry).routes("/a", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("route template");
  }

  private static void expect(
      Consumer<ConeaMetrics.Builder> configure, MeterRegistry registry, String message) {
    assertThatThrownBy(() -> configure.accept(ConeaMetrics.builder(registry)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void customHttpBucketsReplaceTheGuideBuckets() {
    ConeaMetrics.builder(prometheus.registry())
        .durationBuckets(0.1, 1)
        .build()
        .http()
        .record("GET", "/a", "/a", 200, MS);

    assertThat(
            Samples.scrape(prometheus).named("http_request_duration_seconds_bucket").stream()
                .map(s -> s.labels().get("le"))
                .collect(Collectors.toList()))
        .containsExactly("0.1", "1.0", "+Inf");
  }
}
