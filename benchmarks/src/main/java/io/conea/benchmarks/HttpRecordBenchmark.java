package io.conea.benchmarks;

import static io.conea.benchmarks.Requests.DURATION_NANOS;
import static io.conea.benchmarks.Requests.METHODS;
import static io.conea.benchmarks.Requests.PATHS;
import static io.conea.benchmarks.Requests.ROUTES;
import static io.conea.benchmarks.Requests.STATUSES;
import static io.conea.benchmarks.Requests.STATUS_TEXTS;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.HttpServerMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Recording one finished HTTP request: {@code http_requests_total{method,endpoint,status}} plus the
 * 11-bucket {@code http_request_duration_seconds{method,endpoint}}, at steady state (every series
 * already exists), rotating through {@link Requests}' mix.
 *
 * <p>conea's {@link HttpServerMetrics#record} against what a service would write without it:
 * Micrometer's builder idiom, Micrometer with meters cached by the caller, Micrometer's {@code
 * MeterProvider}, the OpenTelemetry SDK (attributes built per call, and pre-built), and the
 * Prometheus Java client. Micrometer variants record into a {@link PrometheusMeterRegistry}, as
 * conea does; none samples exemplars.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
public class HttpRecordBenchmark {

  static final String REQUESTS = "http.requests";
  static final String DURATION = "http.request.duration";
  static final String REQUESTS_HELP = "Total number of HTTP requests";
  static final String DURATION_HELP = "HTTP request latency";

  static final Duration[] SLOS =
      Arrays.stream(Requests.BUCKETS_SECONDS)
          .mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9)))
          .toArray(Duration[]::new);

  /** Each thread's position in the request mix. */
  @State(Scope.Thread)
  public static class Cursor {
    private int position;

    int next() {
      int i = (position + 1) & (Requests.COUNT - 1);
      position = i;
      return i;
    }
  }

  /** conea's meters on a fresh Prometheus registry. */
  @State(Scope.Benchmark)
  public static class Conea {
    PrometheusMetrics prometheus;
    ConeaMetrics metrics;
    HttpServerMetrics http;

    @Setup(Level.Trial)
    public void setUp() {
      prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
      metrics =
          ConeaMetrics.builder(prometheus.registry()).routes(Requests.ROUTE_TEMPLATES).build();
      http = metrics.http();
      for (int i = 0; i < Requests.COUNT; i++) {
        record(http, i);
      }
    }

    @TearDown(Level.Trial)
    public void verify() {
      checkConea(prometheus);
      metrics.close();
      prometheus.close();
    }
  }

  /** conea with {@code nativeHistograms(true)}. */
  @State(Scope.Benchmark)
  public static class ConeaNative {
    PrometheusMetrics prometheus;
    HttpServerMetrics http;

    @Setup(Level.Trial)
    public void setUp() {
      prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
      http =
          ConeaMetrics.builder(prometheus.registry())
              .routes(Requests.ROUTE_TEMPLATES)
              .nativeHistograms(true)
              .build()
              .http();
      for (int i = 0; i < Requests.COUNT; i++) {
        record(http, i);
      }
    }

    @TearDown(Level.Trial)
    public void verify() {
      checkConea(prometheus);
      prometheus.close();
    }
  }

  /**
   * conea on a registry with a common tag: its filter changes conea's meters, so the histogram is
   * recorded with Micrometer's timer, as conea did before it used the Prometheus client's.
   */
  @State(Scope.Benchmark)
  public static class ConeaOnMicrometerTimer {
    PrometheusMetrics prometheus;
    HttpServerMetrics http;

    @Setup(Level.Trial)
    public void setUp() {
      prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();
      prometheus.registry().config().commonTags("application", "benchmark");
      http =
          ConeaMetrics.builder(prometheus.registry())
              .routes(Requests.ROUTE_TEMPLATES)
              .build()
              .http();
      for (int i = 0; i < Requests.COUNT; i++) {
        record(http, i);
      }
    }

    @TearDown(Level.Trial)
    public void verify() {
      checkMicrometer(prometheus.registry());
      prometheus.close();
    }
  }

  /**
   * The physical floor: per request of the mix, a counter and the histogram's buckets resolved in
   * advance ({@link LongAdder}s; the {@code +Inf} bucket, the count, is the sum of the others), the
   * bucket found by a linear scan of the 11 bounds, and the sum ({@link DoubleAdder}).
   */
  @State(Scope.Benchmark)
  public static class Floor {
    static final double[] BOUNDS = Requests.BUCKETS_SECONDS;

    final LongAdder[] counters = new LongAdder[Requests.COUNT];
    final LongAdder[][] buckets = new LongAdder[Requests.COUNT][BOUNDS.length + 1];
    final DoubleAdder[] sums = new DoubleAdder[Requests.COUNT];

    @Setup(Level.Trial)
    public void setUp() {
      for (int i = 0; i < Requests.COUNT; i++) {
        counters[i] = new LongAdder();
        sums[i] = new DoubleAdder();
        for (int b = 0; b <= BOUNDS.length; b++) {
          buckets[i][b] = new LongAdder();
        }
      }
    }

    @TearDown(Level.Trial)
    public void verify() {
      long count = Arrays.stream(counters).mapToLong(LongAdder::sum).sum();
      long observed =
          Arrays.stream(buckets).flatMap(Arrays::stream).mapToLong(LongAdder::sum).sum();
      Checks.check(
          count > 0 && count == observed, "the floor counted " + count + " and " + observed);
    }
  }

  /** A fresh {@link PrometheusMeterRegistry} for a Micrometer variant. */
  @State(Scope.Benchmark)
  public static class Micrometer {
    PrometheusMeterRegistry registry;

    @Setup(Level.Trial)
    public void setUp() {
      registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    @TearDown(Level.Trial)
    public void verify() {
      checkMicrometer(registry);
      registry.close();
    }
  }

  /** The caller's cache of meters, keyed as users usually write it: a key object per call. */
  @State(Scope.Benchmark)
  public static class MicrometerCached extends Micrometer {
    final ConcurrentHashMap<MeterKey, CachedMeters> cache = new ConcurrentHashMap<>();
  }

  /** Micrometer's {@code MeterProvider}s, built once, tagged per call. */
  @State(Scope.Benchmark)
  public static class MicrometerProvider extends Micrometer {
    MeterProvider<Counter> counters;
    MeterProvider<Timer> timers;

    @Setup(Level.Trial)
    public void setUpProviders() {
      counters = Counter.builder(REQUESTS).description(REQUESTS_HELP).withRegistry(registry);
      timers =
          Timer.builder(DURATION)
              .description(DURATION_HELP)
              .serviceLevelObjectives(SLOS)
              .withRegistry(registry);
    }
  }

  /**
   * Micrometer's meters for every request of the mix, registered in advance: the floor under any
   * recording built on Micrometer, conea's included. Not a usable alternative: a service cannot
   * know all its label values in advance.
   */
  @State(Scope.Benchmark)
  public static class MicrometerPreResolved extends Micrometer {
    final Counter[] counters = new Counter[Requests.COUNT];
    final Timer[] timers = new Timer[Requests.COUNT];

    @Setup(Level.Trial)
    public void resolve() {
      for (int i = 0; i < Requests.COUNT; i++) {
        CachedMeters meters =
            new CachedMeters(registry, new MeterKey(METHODS[i], ROUTES[i], STATUS_TEXTS[i]));
        counters[i] = meters.requests;
        timers[i] = meters.duration;
      }
    }
  }

  /** The OpenTelemetry SDK's counter and explicit-bucket histogram, collected in memory. */
  @State(Scope.Benchmark)
  public static class OpenTelemetrySdk {
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("method");
    static final AttributeKey<String> ENDPOINT = AttributeKey.stringKey("endpoint");
    static final AttributeKey<String> STATUS = AttributeKey.stringKey("status");

    CollectingMetricReader reader;
    SdkMeterProvider provider;
    LongCounter requests;
    DoubleHistogram duration;
    final Attributes[] counterAttributes = new Attributes[Requests.COUNT];
    final Attributes[] histogramAttributes = new Attributes[Requests.COUNT];

    @Setup(Level.Trial)
    public void setUp() {
      reader = new CollectingMetricReader();
      provider = SdkMeterProvider.builder().registerMetricReader(reader).build();
      Meter meter = provider.get("io.conea.benchmarks");
      requests = meter.counterBuilder(REQUESTS).setDescription(REQUESTS_HELP).build();
      List<Double> buckets =
          Arrays.stream(Requests.BUCKETS_SECONDS).boxed().collect(Collectors.toList());
      duration =
          meter
              .histogramBuilder(DURATION)
              .setDescription(DURATION_HELP)
              .setUnit("s")
              .setExplicitBucketBoundariesAdvice(buckets)
              .build();
      for (int i = 0; i < Requests.COUNT; i++) {
        counterAttributes[i] =
            Attributes.of(METHOD, METHODS[i], ENDPOINT, ROUTES[i], STATUS, STATUS_TEXTS[i]);
        histogramAttributes[i] = Attributes.of(METHOD, METHODS[i], ENDPOINT, ROUTES[i]);
      }
    }

    @TearDown(Level.Trial)
    public void verify() {
      Collection<MetricData> metrics = reader.collect();
      long count =
          metrics.stream()
              .filter(m -> m.getName().equals(REQUESTS))
              .flatMap(m -> m.getLongSumData().getPoints().stream())
              .mapToLong(p -> p.getValue())
              .sum();
      Checks.check(count > 0, "the OpenTelemetry SDK counted no request: " + metrics);
      provider.close();
    }
  }

  /** The Prometheus Java client's own counter and classic histogram. */
  @State(Scope.Benchmark)
  public static class PrometheusClient {
    PrometheusRegistry registry;
    io.prometheus.metrics.core.metrics.Counter requests;
    Histogram duration;

    @Setup(Level.Trial)
    public void setUp() {
      registry = new PrometheusRegistry();
      requests =
          io.prometheus.metrics.core.metrics.Counter.builder()
              .name("http_requests_total")
              .help(REQUESTS_HELP)
              .labelNames("method", "endpoint", "status")
              .withoutExemplars()
              .register(registry);
      duration =
          Histogram.builder()
              .name("http_request_duration_seconds")
              .help(DURATION_HELP)
              .classicOnly()
              .classicUpperBounds(Requests.BUCKETS_SECONDS)
              .labelNames("method", "endpoint")
              .withoutExemplars()
              .register(registry);
    }

    @TearDown(Level.Trial)
    public void verify() {
      double count = 0;
      for (MetricSnapshot snapshot : registry.scrape()) {
        if (snapshot instanceof CounterSnapshot) {
          for (CounterSnapshot.CounterDataPointSnapshot point :
              ((CounterSnapshot) snapshot).getDataPoints()) {
            count += point.getValue();
          }
        }
      }
      Checks.check(count > 0, "the Prometheus client counted no request");
    }
  }

  /** conea: one call with the request's own values. */
  @Benchmark
  public void conea(Conea state, Cursor cursor) {
    record(state.http, cursor.next());
  }

  /** conea with a native histogram beside the classic buckets. */
  @Benchmark
  public void coneaNativeHistograms(ConeaNative state, Cursor cursor) {
    record(state.http, cursor.next());
  }

  /** conea's code with the histogram on Micrometer's timer (a registry with a common tag). */
  @Benchmark
  public void micrometerTimerConea(ConeaOnMicrometerTimer state, Cursor cursor) {
    record(state.http, cursor.next());
  }

  /** The least any recording can cost: pre-resolved {@link LongAdder}s, see the state. */
  @Benchmark
  public void physicalFloor(Floor state, Cursor cursor) {
    int i = cursor.next();
    state.counters[i].increment();
    double seconds = DURATION_NANOS[i] / 1e9;
    double[] bounds = Floor.BOUNDS;
    int bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]) {
      bucket++;
    }
    state.buckets[i][bucket].increment();
    state.sums[i].add(seconds);
  }

  /** Micrometer as most code uses it: build and register both meters on every request. */
  @Benchmark
  public void micrometerBuilder(Micrometer state, Cursor cursor) {
    int i = cursor.next();
    MeterRegistry registry = state.registry;
    Counter.builder(REQUESTS)
        .description(REQUESTS_HELP)
        .tags("method", METHODS[i], "endpoint", ROUTES[i], "status", STATUS_TEXTS[i])
        .register(registry)
        .increment();
    Timer.builder(DURATION)
        .description(DURATION_HELP)
        .serviceLevelObjectives(SLOS)
        .tags("method", METHODS[i], "endpoint", ROUTES[i])
        .register(registry)
        .record(DURATION_NANOS[i], TimeUnit.NANOSECONDS);
  }

  /** Micrometer with the meters cached by the caller in a map keyed by (method, route, status). */
  @Benchmark
  public void micrometerCached(MicrometerCached state, Cursor cursor) {
    int i = cursor.next();
    MeterRegistry registry = state.registry;
    CachedMeters meters =
        state.cache.computeIfAbsent(
            new MeterKey(METHODS[i], ROUTES[i], STATUS_TEXTS[i]),
            key -> new CachedMeters(registry, key));
    meters.requests.increment();
    meters.duration.record(DURATION_NANOS[i], TimeUnit.NANOSECONDS);
  }

  /** Micrometer's {@code MeterProvider}: builders made once, {@code withTags} per request. */
  @Benchmark
  public void micrometerMeterProvider(MicrometerProvider state, Cursor cursor) {
    int i = cursor.next();
    state
        .counters
        .withTags("method", METHODS[i], "endpoint", ROUTES[i], "status", STATUS_TEXTS[i])
        .increment();
    state
        .timers
        .withTags("method", METHODS[i], "endpoint", ROUTES[i])
        .record(DURATION_NANOS[i], TimeUnit.NANOSECONDS);
  }

  /** Micrometer's own cost alone, with every meter resolved before the run (see the state). */
  @Benchmark
  public void micrometerPreResolved(MicrometerPreResolved state, Cursor cursor) {
    int i = cursor.next();
    state.counters[i].increment();
    state.timers[i].record(DURATION_NANOS[i], TimeUnit.NANOSECONDS);
  }

  /**
   * The OpenTelemetry SDK with {@code Attributes.of(...)} built per request, as usually written.
   */
  @Benchmark
  public void openTelemetrySdk(OpenTelemetrySdk state, Cursor cursor) {
    int i = cursor.next();
    state.requests.add(
        1,
        Attributes.of(
            OpenTelemetrySdk.METHOD,
            METHODS[i],
            OpenTelemetrySdk.ENDPOINT,
            ROUTES[i],
            OpenTelemetrySdk.STATUS,
            STATUS_TEXTS[i]));
    state.duration.record(
        DURATION_NANOS[i] / 1e9,
        Attributes.of(OpenTelemetrySdk.METHOD, METHODS[i], OpenTelemetrySdk.ENDPOINT, ROUTES[i]));
  }

  /** The OpenTelemetry SDK with every attribute set built in advance: its best case. */
  @Benchmark
  public void openTelemetrySdkPrebuiltAttributes(OpenTelemetrySdk state, Cursor cursor) {
    int i = cursor.next();
    state.requests.add(1, state.counterAttributes[i]);
    state.duration.record(DURATION_NANOS[i] / 1e9, state.histogramAttributes[i]);
  }

  /** The Prometheus Java client, {@code labelValues(...)} per request. */
  @Benchmark
  public void prometheusClient(PrometheusClient state, Cursor cursor) {
    int i = cursor.next();
    state.requests.labelValues(METHODS[i], ROUTES[i], STATUS_TEXTS[i]).inc();
    state.duration.labelValues(METHODS[i], ROUTES[i]).observe(DURATION_NANOS[i] / 1e9);
  }

  static void record(HttpServerMetrics http, int i) {
    http.record(METHODS[i], ROUTES[i], PATHS[i], STATUSES[i], DURATION_NANOS[i]);
  }

  /**
   * conea's requests were counted and its durations recorded with the Prometheus client's
   * histogram: Micrometer has no timer of that name, and the scrape no {@code _max}.
   */
  static void checkConea(PrometheusMetrics prometheus) {
    PrometheusMeterRegistry registry = prometheus.registry();
    double requests = registry.find(REQUESTS).counters().stream().mapToDouble(Counter::count).sum();
    Checks.check(
        registry.find(DURATION).timers().isEmpty(),
        "conea recorded durations with Micrometer's timer, not the Prometheus client's histogram");
    long timed = 0;
    for (MetricSnapshot snapshot : registry.getPrometheusRegistry().scrape()) {
      if (snapshot instanceof HistogramSnapshot
          && snapshot.getMetadata().getPrometheusName().equals("http_request_duration_seconds")) {
        for (HistogramSnapshot.HistogramDataPointSnapshot point :
            ((HistogramSnapshot) snapshot).getDataPoints()) {
          timed += point.getCount();
        }
      }
    }
    Checks.check(
        requests > 0 && timed > 0,
        "conea recorded " + requests + " requests and " + timed + " durations");
  }

  static void checkMicrometer(MeterRegistry registry) {
    double requests = registry.find(REQUESTS).counters().stream().mapToDouble(Counter::count).sum();
    long timed = registry.find(DURATION).timers().stream().mapToLong(Timer::count).sum();
    Checks.check(
        requests > 0 && timed > 0,
        "Micrometer recorded " + requests + " requests and " + timed + " durations");
  }

  /** The composite key a caller-side cache builds per request. */
  record MeterKey(String method, String route, String status) {}

  /** The two meters of one key. */
  static final class CachedMeters {
    final Counter requests;
    final Timer duration;

    CachedMeters(MeterRegistry registry, MeterKey key) {
      requests =
          Counter.builder(REQUESTS)
              .description(REQUESTS_HELP)
              .tags("method", key.method(), "endpoint", key.route(), "status", key.status())
              .register(registry);
      duration =
          Timer.builder(DURATION)
              .description(DURATION_HELP)
              .serviceLevelObjectives(SLOS)
              .tags("method", key.method(), "endpoint", key.route())
              .register(registry);
    }
  }
}
