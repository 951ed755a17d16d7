package io.conea.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.noop.NoopMeter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One duration histogram family, recorded by a collector of its own on a Micrometer Prometheus
 * registry (see {@link PrometheusHistogram}) and with a Micrometer timer on any other registry.
 *
 * <p>The choice is made once, at the family's first series, and only for a registry whose meter
 * filters leave conea's meters as registered: a filter that renames them, adds tags (common tags
 * such as {@code application}) or denies them applies to Micrometer's meters only, so with such a
 * filter the histogram stays on Micrometer and agrees with the counters beside it. The probe is a
 * counter of the same family set that conea has just registered.
 */
final class DurationHistogram {

  private static final Logger logger = LoggerFactory.getLogger(ConeaMetrics.class);

  private final Registrations registrations;
  private final String meterName;
  private final String prometheusName;
  private final String help;
  private final String[] labelNames;
  private final Duration[] buckets;
  private final boolean nativeHistograms;

  /** Guarded by {@code this}. */
  private boolean decided;

  private volatile @Nullable PrometheusHistogram prometheus;

  /**
   * @param meterName the Micrometer name, e.g. {@code http.request.duration}
   * @param prometheusName the name as scraped, e.g. {@code http_request_duration_seconds}
   */
  DurationHistogram(
      Registrations registrations,
      String meterName,
      String prometheusName,
      String help,
      String[] labelNames,
      Duration[] buckets,
      boolean nativeHistograms) {
    this.registrations = registrations;
    this.meterName = meterName;
    this.prometheusName = prometheusName;
    this.help = help;
    this.labelNames = labelNames.clone();
    this.buckets = buckets.clone();
    this.nativeHistograms = nativeHistograms;
  }

  /**
   * Returns the recorder of one series. Never throws.
   *
   * @param probe a meter conea registered just before, with {@code probeName} and {@code
   *     probeTags}; if the registry's filters changed it, Micrometer records this family
   * @param labelValues in {@code labelNames}' order
   */
  Recorder series(Meter probe, String probeName, Tags probeTags, String... labelValues) {
    PrometheusHistogram histogram = decide(probe, probeName, probeTags);
    if (histogram != null) {
      try {
        return histogram.series(labelValues);
      } catch (RuntimeException | LinkageError e) {
        registrations.recordingFailed("a duration series of the Prometheus client", e);
      }
    }
    Tags tags = Tags.empty();
    for (int i = 0; i < labelNames.length; i++) {
      tags = tags.and(labelNames[i], labelValues[i]);
    }
    return new MicrometerRecorder(registrations.timer(meterName, help, buckets, tags));
  }

  private synchronized @Nullable PrometheusHistogram decide(
      Meter probe, String probeName, Tags probeTags) {
    if (decided) {
      return prometheus;
    }
    decided = true;
    if (!unfiltered(probe, probeName, probeTags)) {
      logger.debug(
          "{} is recorded through Micrometer: the registry's filters change conea's meters",
          prometheusName);
      return null;
    }
    try {
      double[] seconds = new double[buckets.length];
      for (int i = 0; i < seconds.length; i++) {
        seconds[i] = buckets[i].toNanos() / 1e9;
      }
      prometheus =
          PrometheusHistogram.of(
              registrations.registry(),
              prometheusName,
              help,
              labelNames,
              seconds,
              nativeHistograms);
    } catch (RuntimeException | LinkageError e) {
      // Another collector of that name (Micrometer's timer, say) or a client_java that differs.
      logger.debug("{} is recorded through Micrometer", prometheusName, e);
      prometheus = null;
    }
    return prometheus;
  }

  private static boolean unfiltered(Meter probe, String name, Tags tags) {
    if (probe instanceof NoopMeter) {
      return false;
    }
    Meter.Id id = probe.getId();
    if (!name.equals(id.getName())) {
      return false;
    }
    Tags actual = Tags.empty();
    for (Tag tag : id.getTagsAsIterable()) {
      actual = actual.and(tag);
    }
    return actual.equals(tags);
  }

  /** Records the durations of one series. */
  abstract static class Recorder {

    /** Records one duration; the caller catches failures. */
    abstract void record(long durationNanos);
  }

  private static final class MicrometerRecorder extends Recorder {

    private final Timer timer;

    MicrometerRecorder(Timer timer) {
      this.timer = timer;
    }

    @Override
    void record(long durationNanos) {
      timer.record(durationNanos, TimeUnit.NANOSECONDS);
    }
  }
}
