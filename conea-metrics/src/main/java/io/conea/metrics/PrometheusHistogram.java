package io.conea.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.exemplars.ExemplarSampler;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * A duration histogram registered as a collector on the {@link PrometheusRegistry} that a {@link
 * PrometheusMeterRegistry} scrapes: the same family name, labels, help and buckets as Micrometer's
 * timer would give, without Micrometer's {@code _max} gauge and its time window, and with each
 * series resolved once.
 *
 * <p>With native histograms, each series is a data point of the Prometheus client's own {@link
 * Histogram}, which maintains the classic and the native buckets together. Without them (the
 * default), each series is a {@link ClassicSeries}: a {@link LongAdder} per bucket and one for the
 * sum, snapshotted into the client's data model at scrape time. It is measured, not assumed, that
 * this pays: the client's {@code observe} increments one {@code AtomicLong} per data point (the
 * buffer that keeps its scrapes consistent), which two threads recording the same series contend
 * on; on 2 cores that made recording an HTTP request five times slower than on one thread (see
 * {@code benchmarks/RESULTS.md}). Striped adders scale with the threads. A scrape during recording
 * may see a sum that lags its buckets by the observations in flight, as with Micrometer's own
 * histograms; the count is always the buckets' total.
 *
 * <p>Exemplars are sampled as Micrometer samples them for its own histograms: by an exemplar
 * sampler per series from the registry's own exemplar sampler factory (its span context and
 * exemplar properties), added to the histogram's snapshot at scrape time. A registry created
 * without a span context has no factory, and the histogram has no exemplars, as Micrometer's would.
 *
 * <p>One instance per (Prometheus registry, name), shared by every {@link ConeaMetrics} on it, as
 * Micrometer shares a meter between those that register the same one.
 */
final class PrometheusHistogram implements Collector {

  private static final Map<PrometheusRegistry, Map<String, PrometheusHistogram>> BY_REGISTRY =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final String name;
  private final String help;
  private final String[] labelNames;

  /** The client's histogram, with native histograms only. */
  private final @Nullable Histogram histogram;

  private final double[] bounds;

  /** The upper bounds with {@code +Inf}, as the classic buckets' snapshot takes them. */
  private final double[] boundsWithInfinity;

  /**
   * The upper bounds in nanoseconds: an observation goes to the first bucket it does not exceed.
   */
  private final long[] boundNanos;

  /** The series without native histograms, by their label values in {@code labelNames}' order. */
  private final ConcurrentHashMap<List<String>, ClassicSeries> classicSeries =
      new ConcurrentHashMap<>();

  private final @Nullable Object exemplarSamplerFactory;
  private final @Nullable Method createExemplarSampler;

  /** The exemplar sampler of each series, by its label values in {@code labelNames}' order. */
  private final ConcurrentHashMap<List<String>, ExemplarSampler> samplers =
      new ConcurrentHashMap<>();

  private PrometheusHistogram(
      String name,
      String help,
      String[] labelNames,
      double[] bounds,
      boolean nativeHistograms,
      @Nullable Object exemplarSamplerFactory,
      @Nullable Method createExemplarSampler) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames.clone();
    this.bounds = bounds.clone();
    this.boundsWithInfinity = withInfinity();
    this.boundNanos = new long[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      // A bound of 0.005 s is 5,000,000 ns: rounding, not truncation, keeps it exact.
      this.boundNanos[i] = Math.round(bounds[i] * 1e9);
    }
    this.exemplarSamplerFactory = exemplarSamplerFactory;
    this.createExemplarSampler = createExemplarSampler;
    this.histogram =
        nativeHistograms
            ? Histogram.builder()
                .name(name)
                .help(help)
                .labelNames(labelNames)
                .classicUpperBounds(bounds)
                .withoutExemplars()
                .build()
            : null;
  }

  /**
   * Returns the histogram {@code name} of {@code registry}'s Prometheus registry, registering it on
   * first use; null if {@code registry} is not a {@link PrometheusMeterRegistry} or its exemplar
   * configuration cannot be read (then Micrometer records, and nothing is lost).
   *
   * @param name the name as scraped, e.g. {@code http_request_duration_seconds}
   * @throws IllegalArgumentException if the Prometheus registry already has another collector of
   *     that name, such as Micrometer's timer
   */
  static @Nullable PrometheusHistogram of(
      MeterRegistry registry,
      String name,
      String help,
      String[] labelNames,
      double[] bounds,
      boolean nativeHistograms) {
    if (!(registry instanceof PrometheusMeterRegistry)) {
      return null;
    }
    PrometheusMeterRegistry prometheus = (PrometheusMeterRegistry) registry;
    ExemplarAccess exemplars = ExemplarAccess.INSTANCE;
    if (exemplars == null) {
      return null;
    }
    Object factory;
    try {
      factory = exemplars.factory.get(prometheus);
    } catch (IllegalAccessException | RuntimeException e) {
      return null;
    }
    PrometheusRegistry target = prometheus.getPrometheusRegistry();
    synchronized (BY_REGISTRY) {
      Map<String, PrometheusHistogram> byName =
          BY_REGISTRY.computeIfAbsent(target, r -> new HashMap<>());
      PrometheusHistogram known = byName.get(name);
      if (known != null) {
        return known;
      }
      PrometheusHistogram created =
          new PrometheusHistogram(
              name,
              help,
              labelNames,
              bounds,
              nativeHistograms,
              factory,
              factory == null ? null : exemplars.create);
      target.register(created);
      byName.put(name, created);
      return created;
    }
  }

  /** Returns the recorder of one series, resolved now. */
  DurationHistogram.Recorder series(String... labelValues) {
    List<String> key = Collections.unmodifiableList(Arrays.asList(labelValues.clone()));
    ExemplarSampler sampler = null;
    if (exemplarSamplerFactory != null && createExemplarSampler != null) {
      sampler = samplers.computeIfAbsent(key, k -> newSampler());
    }
    if (histogram == null) {
      ClassicSeries series =
          classicSeries.computeIfAbsent(key, k -> new ClassicSeries(boundNanos.length + 1));
      return sampler == null ? series : new SampledClassicSeries(series, sampler);
    }
    return new Series(histogram.labelValues(labelValues), sampler);
  }

  private ExemplarSampler newSampler() {
    try {
      return (ExemplarSampler)
          java.util.Objects.requireNonNull(createExemplarSampler)
              .invoke(exemplarSamplerFactory, (Object) withInfinity());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Micrometer's exemplar sampler factory failed", e);
    }
  }

  /** Deprecated in later client_java releases, the only way to name a collector in 1.3. */
  /** The upper bounds as exemplar samplers take them: with the {@code +Inf} bucket. */
  private double[] withInfinity() {
    double[] all = Arrays.copyOf(bounds, bounds.length + 1);
    all[bounds.length] = Double.POSITIVE_INFINITY;
    return all;
  }

  @Override
  @SuppressWarnings("deprecation")
  public String getPrometheusName() {
    return name;
  }

  @Override
  public HistogramSnapshot collect() {
    if (histogram == null) {
      return collectClassic();
    }
    HistogramSnapshot snapshot = histogram.collect();
    if (samplers.isEmpty()) {
      return snapshot;
    }
    List<HistogramDataPointSnapshot> points = new ArrayList<>(snapshot.getDataPoints().size());
    for (HistogramDataPointSnapshot point : snapshot.getDataPoints()) {
      ExemplarSampler sampler = samplers.get(labelValues(point.getLabels()));
      points.add(sampler == null ? point : withExemplars(point, sampler));
    }
    return new HistogramSnapshot(snapshot.isGaugeHistogram(), snapshot.getMetadata(), points);
  }

  private HistogramSnapshot collectClassic() {
    List<HistogramDataPointSnapshot> points = new ArrayList<>(classicSeries.size());
    String[] names = labelNames;
    classicSeries.forEach(
        (values, series) -> {
          long[] counts = new long[series.buckets.length];
          for (int i = 0; i < counts.length; i++) {
            counts[i] = series.buckets[i].sum();
          }
          ExemplarSampler sampler = samplers.get(values);
          points.add(
              new HistogramDataPointSnapshot(
                  ClassicHistogramBuckets.of(boundsWithInfinity, counts),
                  series.sumNanos.sum() / 1e9,
                  Labels.of(names, values.toArray(new String[0])),
                  sampler == null ? Exemplars.EMPTY : sampler.collect(),
                  series.createdMillis));
        });
    return new HistogramSnapshot(new MetricMetadata(name, help), points);
  }

  private List<String> labelValues(Labels labels) {
    String[] values = new String[labelNames.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = labels.get(labelNames[i]);
    }
    return Arrays.asList(values);
  }

  private static HistogramDataPointSnapshot withExemplars(
      HistogramDataPointSnapshot point, ExemplarSampler sampler) {
    return new HistogramDataPointSnapshot(
        point.getClassicBuckets(),
        point.getNativeSchema(),
        point.getNativeZeroCount(),
        point.getNativeZeroThreshold(),
        point.getNativeBucketsForPositiveValues(),
        point.getNativeBucketsForNegativeValues(),
        point.hasSum() ? point.getSum() : Double.NaN,
        point.getLabels(),
        sampler.collect(),
        point.hasCreatedTimestamp() ? point.getCreatedTimestampMillis() : 0L,
        point.hasScrapeTimestamp() ? point.getScrapeTimestampMillis() : 0L);
  }

  /**
   * One series without native histograms: a striped counter per bucket ({@code +Inf} last) and one
   * for the sum in nanoseconds, which is exact and cannot overflow in 290 years of durations.
   */
  final class ClassicSeries extends DurationHistogram.Recorder {

    final LongAdder[] buckets;
    final LongAdder sumNanos = new LongAdder();
    final long createdMillis = System.currentTimeMillis();

    ClassicSeries(int buckets) {
      this.buckets = new LongAdder[buckets];
      for (int i = 0; i < buckets; i++) {
        this.buckets[i] = new LongAdder();
      }
    }

    @Override
    void record(long durationNanos) {
      long[] bounds = boundNanos;
      int i = 0;
      // Most requests fall in the first buckets: a linear scan ends sooner than a binary search.
      while (i < bounds.length && durationNanos > bounds[i]) {
        i++;
      }
      buckets[i].increment();
      sumNanos.add(durationNanos);
    }
  }

  /** A classic series whose registry samples exemplars. */
  private static final class SampledClassicSeries extends DurationHistogram.Recorder {

    private final ClassicSeries series;
    private final ExemplarSampler sampler;

    SampledClassicSeries(ClassicSeries series, ExemplarSampler sampler) {
      this.series = series;
      this.sampler = sampler;
    }

    @Override
    void record(long durationNanos) {
      series.record(durationNanos);
      sampler.observe(durationNanos / 1e9);
    }
  }

  /** One series: its data point, and its exemplar sampler if the registry samples exemplars. */
  static final class Series extends DurationHistogram.Recorder {

    private final DistributionDataPoint point;
    private final @Nullable ExemplarSampler sampler;

    Series(DistributionDataPoint point, @Nullable ExemplarSampler sampler) {
      this.point = point;
      this.sampler = sampler;
    }

    @Override
    void record(long durationNanos) {
      double seconds = durationNanos / 1e9;
      point.observe(seconds);
      if (sampler != null) {
        sampler.observe(seconds);
      }
    }
  }

  /**
   * The registry's exemplar sampler factory, a private field of Micrometer's registry (the same
   * name from Micrometer 1.13 to 1.17). If a later Micrometer renames it, conea keeps recording
   * through Micrometer.
   */
  private static final class ExemplarAccess {

    static final @Nullable ExemplarAccess INSTANCE = load();

    final Field factory;
    final Method create;

    private ExemplarAccess(Field factory, Method create) {
      this.factory = factory;
      this.create = create;
    }

    private static @Nullable ExemplarAccess load() {
      try {
        Field field = PrometheusMeterRegistry.class.getDeclaredField("exemplarSamplerFactory");
        field.setAccessible(true);
        Method method = field.getType().getDeclaredMethod("createExemplarSampler", double[].class);
        method.setAccessible(true);
        if (!ExemplarSampler.class.isAssignableFrom(method.getReturnType())) {
          return null;
        }
        return new ExemplarAccess(field, method);
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        return null;
      }
    }
  }
}
