package io.conea.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.exemplars.ExemplarSampler;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
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
import org.jspecify.annotations.Nullable;

/**
 * A duration histogram recorded with the Prometheus client's own {@link Histogram}, registered on
 * the {@link PrometheusRegistry} that a {@link PrometheusMeterRegistry} scrapes: the same family
 * name, labels, help and buckets as Micrometer's timer would give, without Micrometer's {@code
 * _max} gauge and its time window, and with each series' data point resolved once.
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
  private final String[] labelNames;
  private final Histogram histogram;
  private final double[] bounds;
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
    this.labelNames = labelNames.clone();
    this.bounds = bounds.clone();
    this.exemplarSamplerFactory = exemplarSamplerFactory;
    this.createExemplarSampler = createExemplarSampler;
    Histogram.Builder builder =
        Histogram.builder()
            .name(name)
            .help(help)
            .labelNames(labelNames)
            .classicUpperBounds(bounds)
            .withoutExemplars();
    if (!nativeHistograms) {
      builder.classicOnly();
    }
    this.histogram = builder.build();
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

  /** Returns the recorder of one series, its data point resolved now. */
  Series series(String... labelValues) {
    DistributionDataPoint point = histogram.labelValues(labelValues);
    ExemplarSampler sampler = null;
    if (exemplarSamplerFactory != null && createExemplarSampler != null) {
      sampler =
          samplers.computeIfAbsent(
              Collections.unmodifiableList(Arrays.asList(labelValues.clone())), k -> newSampler());
    }
    return new Series(point, sampler);
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
