package io.conea.metrics;

import io.conea.metrics.internal.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.noop.NoopCounter;
import io.micrometer.core.instrument.noop.NoopTimer;
import java.time.Duration;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers meters without ever throwing: a registry or meter filter that rejects a meter gets one
 * warning per meter name, and the caller gets a no-op meter so that recording carries on.
 */
final class Registrations {

  private static final Logger logger = LoggerFactory.getLogger(ConeaMetrics.class);

  private final MeterRegistry registry;
  private final Problems problems;

  Registrations(MeterRegistry registry, Problems problems) {
    this.registry = registry;
    this.problems = problems;
  }

  MeterRegistry registry() {
    return registry;
  }

  Problems problems() {
    return problems;
  }

  Counter counter(String name, String description, @Nullable String baseUnit, Tags tags) {
    try {
      return Counter.builder(name)
          .description(description)
          .baseUnit(baseUnit)
          .tags(tags)
          .register(registry);
    } catch (RuntimeException | LinkageError e) {
      failed(name, e);
      return new NoopCounter(new Meter.Id(name, tags, baseUnit, description, Meter.Type.COUNTER));
    }
  }

  Timer timer(String name, String description, Duration[] buckets, Tags tags) {
    try {
      return Timer.builder(name)
          .description(description)
          .serviceLevelObjectives(buckets)
          .tags(tags)
          .register(registry);
    } catch (RuntimeException | LinkageError e) {
      failed(name, e);
      return new NoopTimer(new Meter.Id(name, tags, null, description, Meter.Type.TIMER));
    }
  }

  <T> void gauge(String name, String description, Tags tags, T state, ToDoubleFunction<T> value) {
    try {
      Gauge.builder(name, state, value)
          .description(description)
          .tags(tags)
          .strongReference(true)
          .register(registry);
    } catch (RuntimeException | LinkageError e) {
      failed(name, e);
    }
  }

  /**
   * Reports a failure while recording; the value is lost, so say so once. {@code what} is a
   * constant, and the problem's key, so that repeated failures do not allocate.
   */
  void recordingFailed(String what, Throwable e) {
    if (problems.firstTime(what)) {
      logger.warn(
          "Recording {} failed; this and further failures of the same kind are dropped and"
              + " not logged again",
          what,
          e);
    }
  }

  private void failed(String name, Throwable e) {
    if (problems.firstTime("register:" + name)) {
      logger.warn(
          "The registry rejected meter {}; values for it are dropped (logged once per meter name)",
          name,
          e);
    }
  }
}
