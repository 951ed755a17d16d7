package io.conea.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer's JVM and process meters, each binder bound only where the registry does not have its
 * meters yet, so that a registry some other code (Spring Boot's auto-configuration, the
 * application) already equipped is never bound twice.
 */
final class JvmMeters implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(JvmMeters.class);

  static final String PROCESS_CPU_TIME = "process.cpu.time";
  static final String SYSTEM_CPU_COUNT = "system.cpu.count";
  static final String SYSTEM_CPUS = "system.cpu.logical.processors";

  /** One binder and a meter it always registers, whose presence means it has run. */
  private record Binder(String sentinel, Supplier<MeterBinder> binder) {}

  private static final Binder[] BINDERS = {
    new Binder("jvm.memory.used", JvmMemoryMetrics::new),
    new Binder("jvm.gc.memory.allocated", JvmGcMetrics::new),
    new Binder("jvm.threads.live", JvmThreadMetrics::new),
    new Binder("jvm.classes.loaded", ClassLoaderMetrics::new),
    new Binder(SYSTEM_CPU_COUNT, ProcessorMetrics::new),
    new Binder("process.uptime", UptimeMetrics::new),
    new Binder("process.files.open", FileDescriptorMetrics::new),
  };

  private final @Nullable JvmGcMetrics gc;

  private JvmMeters(@Nullable JvmGcMetrics gc) {
    this.gc = gc;
  }

  /**
   * The filters that make Micrometer's process meters pass {@code promtool check metrics}: {@code
   * process.cpu.time} (exposed as {@code process_cpu_time_ns_total}, an abbreviated unit) is left
   * out, as {@code process_cpu_usage} stays, and {@code system.cpu.count} (a {@code _count} suffix
   * on a gauge) becomes {@code system.cpu.logical.processors}. Only for a registry conea creates,
   * before its first meter.
   */
  static void configurePromtoolNames(MeterRegistry registry) {
    registry
        .config()
        .meterFilter(MeterFilter.deny(id -> PROCESS_CPU_TIME.equals(id.getName())))
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                return SYSTEM_CPU_COUNT.equals(id.getName()) ? id.withName(SYSTEM_CPUS) : id;
              }
            });
  }

  /** Binds every binder whose meters {@code registry} lacks; close stops the GC listener. */
  static JvmMeters bindMissing(MeterRegistry registry) {
    JvmGcMetrics gc = null;
    for (Binder binder : BINDERS) {
      if (has(registry, binder.sentinel())) {
        continue;
      }
      try {
        MeterBinder instance = binder.binder().get();
        instance.bindTo(registry);
        if (instance instanceof JvmGcMetrics) {
          gc = (JvmGcMetrics) instance;
        }
      } catch (RuntimeException | LinkageError e) {
        // A JVM without some MXBean must still get the application's own metrics.
        logger.warn("Could not bind the JVM meters of {}", binder.sentinel(), e);
      }
    }
    return new JvmMeters(gc);
  }

  private static boolean has(MeterRegistry registry, String name) {
    return registry.find(name).meter() != null
        || (SYSTEM_CPU_COUNT.equals(name) && registry.find(SYSTEM_CPUS).meter() != null);
  }

  /** Stops the garbage collection listener, if this bound one. */
  @Override
  public void close() {
    if (gc != null) {
      gc.close();
    }
  }
}
