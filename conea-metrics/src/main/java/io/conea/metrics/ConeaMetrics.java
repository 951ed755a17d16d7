package io.conea.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the monitoring guide's meters on one {@link MeterRegistry}, with the guide's names,
 * labels, help texts and histogram buckets, so that its queries, alerts, dashboards and SLOs work
 * unchanged.
 *
 * <p>As scraped by Prometheus:
 *
 * <ul>
 *   <li>{@code http_requests_total{method,endpoint,status}} and {@code
 *       http_request_duration_seconds{method,endpoint}}: see {@link HttpServerMetrics};
 *   <li>{@code ai_model_requests_total}, {@code ai_tokens_total}, {@code
 *       ai_processing_duration_seconds}, {@code ai_cost_usd_total}: see {@link AiMetrics};
 *   <li>{@code data_processing_jobs_total{job_type,status}}: {@link #recordJob};
 *   <li>{@code user_activity_total}: {@link #recordUserActivity};
 *   <li>{@code tcp_connections{state="established"}}: {@link #connectionOpened}, {@link
 *       #connectionClosed};
 *   <li>unless {@link Builder#bindJvmMetrics switched off}, Micrometer's JVM and process meters
 *       ({@code jvm_memory_used_bytes}, {@code jvm_gc_pause_seconds}, {@code jvm_threads_live},
 *       {@code process_cpu_usage}, {@code process_uptime_seconds}, {@code
 *       process_files_open_files}, ...).
 * </ul>
 *
 * <p>Example, with the Prometheus scrape served by the JDK's HTTP server:
 *
 * <pre>{@code
 * PrometheusMetrics prometheus = PrometheusMetrics.create();
 * ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry());
 * HttpServer server = HttpServer.create(new InetSocketAddress(9464), 0);
 * server.createContext("/metrics", prometheus.httpHandler());
 * server.start();
 *
 * long start = System.nanoTime();
 * // ... handle GET /api/v1/users/42 ...
 * metrics.http().record("GET", "/api/v1/users/{id}", "/api/v1/users/42", 200,
 *     System.nanoTime() - start);
 * metrics.recordJob("csv-import", true);
 * }</pre>
 *
 * <p>Beyond the guide's series, Micrometer adds one gauge per timer: {@code
 * http_request_duration_seconds_max} and {@code ai_processing_duration_seconds_max}, the largest
 * duration in a recent time window, with the timer's labels. Neither format has {@code _created}
 * series unless the Prometheus client is configured to include created timestamps.
 *
 * <p>Recording methods never throw and, for values seen before, allocate nothing. Closing stops the
 * JVM garbage collection listener; the other meters stay registered.
 */
public final class ConeaMetrics implements AutoCloseable {

  /** The value that unknown, invalid or over-the-cap label values collapse into. */
  public static final String OTHER = "_OTHER";

  /** Default of {@link Builder#maxEndpoints}. */
  public static final int DEFAULT_MAX_ENDPOINTS = 100;

  /** Default of {@link Builder#maxLabelValues}. */
  public static final int DEFAULT_MAX_LABEL_VALUES = 100;

  static final String JOBS = "data.processing.jobs";
  static final String USER_ACTIVITY = "user.activity";
  static final String CONNECTIONS = "tcp.connections";

  static final String METHOD = "method";
  static final String ENDPOINT = "endpoint";
  static final String STATUS = "status";
  static final String JOB_TYPE = "job_type";
  static final String STATE = "state";

  /** The guide's {@code http_request_duration_seconds} buckets, in seconds. */
  static final double[] HTTP_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  /** Model calls take from a tenth of a second to minutes. */
  static final double[] AI_BUCKETS = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};

  private static final Logger logger = LoggerFactory.getLogger(ConeaMetrics.class);

  private final MeterRegistry registry;
  private final Registrations registrations;
  private final HttpServerMetrics http;
  private final AiMetrics ai;
  private final LabelCache<JobCounters> jobs;
  private final Counter userActivity;
  private final AtomicLong connections = new AtomicLong();
  private final List<AutoCloseable> closeables;
  private final AtomicBoolean closed = new AtomicBoolean();

  ConeaMetrics(
      MeterRegistry registry,
      int maxEndpoints,
      int maxLabelValues,
      Duration[] httpBuckets,
      Duration[] aiBuckets,
      boolean bindJvmMetrics,
      List<String> routes) {
    this.registry = registry;
    this.registrations = new Registrations(registry, new Problems());
    this.http = new HttpServerMetrics(registrations, httpBuckets, maxEndpoints, routes);
    this.ai = new AiMetrics(registrations, aiBuckets, maxLabelValues);
    this.jobs =
        new LabelCache<>(JOB_TYPE, maxLabelValues, JobCounters::new, registrations.problems());
    this.userActivity =
        registrations.counter(USER_ACTIVITY, "Total user activity events", null, Tags.empty());
    registrations.gauge(
        CONNECTIONS,
        "Number of TCP connections, by state",
        Tags.of(STATE, "established"),
        connections,
        AtomicLong::get);
    this.closeables = bindJvmMetrics ? bindJvmMetrics(registry) : Collections.emptyList();
  }

  /**
   * Returns metrics with the defaults: the guide's buckets, {@value #DEFAULT_MAX_ENDPOINTS}
   * endpoints, {@value #DEFAULT_MAX_LABEL_VALUES} values per user-data label, JVM metrics bound.
   */
  public static ConeaMetrics create(MeterRegistry registry) {
    return builder(registry).build();
  }

  /** Returns a builder for metrics on {@code registry}. */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /** Returns the HTTP server meters. */
  public HttpServerMetrics http() {
    return http;
  }

  /** Returns the AI model meters. */
  public AiMetrics ai() {
    return ai;
  }

  /**
   * Counts one finished data processing job in {@code data_processing_jobs_total{job_type,status}},
   * status {@code success} or {@code failure}. Never throws; job types past the cap, and null or
   * blank ones, are recorded as {@value #OTHER}.
   */
  public void recordJob(@Nullable String jobType, boolean success) {
    try {
      JobCounters counters = jobs.get(jobType);
      (success ? counters.success : counters.failure).increment();
    } catch (RuntimeException e) {
      registrations.recordingFailed("a data processing job", e);
    }
  }

  /** Counts one user action in {@code user_activity_total}. Never throws. */
  public void recordUserActivity() {
    try {
      userActivity.increment();
    } catch (RuntimeException e) {
      registrations.recordingFailed("user activity", e);
    }
  }

  /** Adds one to {@code tcp_connections{state="established"}}. */
  public void connectionOpened() {
    connections.incrementAndGet();
  }

  /**
   * Takes one from {@code tcp_connections{state="established"}}. A close without a matching open
   * leaves the gauge at zero and is reported once, as it means the caller's accounting is wrong.
   */
  public void connectionClosed() {
    long current;
    do {
      current = connections.get();
      if (current <= 0) {
        if (registrations.problems().firstTime("connections.underflow")) {
          logger.warn(
              "connectionClosed() was called more often than connectionOpened(); the gauge"
                  + " stays at 0 and this is not logged again");
        }
        return;
      }
    } while (!connections.compareAndSet(current, current - 1));
  }

  /** Returns the registry the meters are registered on. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Stops the JVM garbage collection listener. Idempotent; recording keeps working. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      for (AutoCloseable closeable : closeables) {
        try {
          closeable.close();
        } catch (Exception e) {
          logger.warn("Closing {} failed", closeable.getClass().getSimpleName(), e);
        }
      }
    }
  }

  private static final String PROCESS_CPU_TIME = "process.cpu.time";
  private static final String SYSTEM_CPU_COUNT = "system.cpu.count";
  static final String SYSTEM_CPUS = "system.cpu.logical.processors";

  private static List<AutoCloseable> bindJvmMetrics(MeterRegistry registry) {
    // Two of ProcessorMetrics' names fail `promtool check metrics`: process_cpu_time_ns_total
    // (an abbreviated unit; process.cpu.usage stays) and system_cpu_count (a _count suffix on a
    // gauge, renamed). Only these exact names are touched.
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
    JvmGcMetrics gc = new JvmGcMetrics();
    List<MeterBinder> binders =
        List.of(
            new JvmMemoryMetrics(),
            gc,
            new JvmThreadMetrics(),
            new ClassLoaderMetrics(),
            new ProcessorMetrics(),
            new UptimeMetrics(),
            new FileDescriptorMetrics());
    for (MeterBinder binder : binders) {
      try {
        binder.bindTo(registry);
      } catch (RuntimeException e) {
        // A JVM without some MXBean must still get the application's own metrics.
        logger.warn("Could not bind {}", binder.getClass().getSimpleName(), e);
      }
    }
    return List.of(gc);
  }

  /** Both counters of one job type, registered together so that absent means zero. */
  private final class JobCounters {

    final Counter success;
    final Counter failure;

    JobCounters(String jobType) {
      String help = "Total data processing jobs";
      success =
          registrations.counter(JOBS, help, null, Tags.of(JOB_TYPE, jobType, STATUS, "success"));
      failure =
          registrations.counter(JOBS, help, null, Tags.of(JOB_TYPE, jobType, STATUS, "failure"));
    }
  }

  /**
   * Configures {@link ConeaMetrics}. Every setter checks its argument at once and throws {@link
   * IllegalArgumentException} (or {@link NullPointerException} for null) with the reason.
   */
  public static final class Builder {

    private final MeterRegistry registry;
    private int maxEndpoints = DEFAULT_MAX_ENDPOINTS;
    private int maxLabelValues = DEFAULT_MAX_LABEL_VALUES;
    private Duration[] durationBuckets = toDurations(HTTP_BUCKETS);
    private Duration[] aiDurationBuckets = toDurations(AI_BUCKETS);
    private boolean bindJvmMetrics = true;
    private List<String> routes = Collections.emptyList();

    Builder(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
    }

    /**
     * Sets how many distinct {@code endpoint} values (route templates and normalised paths) are
     * kept before new ones are recorded as {@value ConeaMetrics#OTHER}. Default {@value
     * ConeaMetrics#DEFAULT_MAX_ENDPOINTS}; {@link #routes declared routes} and {@value
     * HttpServerMetrics#NOT_FOUND} do not count.
     */
    public Builder maxEndpoints(int maxEndpoints) {
      this.maxEndpoints = positive(maxEndpoints, "maxEndpoints");
      return this;
    }

    /**
     * Sets how many distinct values each label fed by user data ({@code job_type}, {@code model},
     * {@code provider}) keeps before new ones are recorded as {@value ConeaMetrics#OTHER}. Default
     * {@value ConeaMetrics#DEFAULT_MAX_LABEL_VALUES}.
     */
    public Builder maxLabelValues(int maxLabelValues) {
      this.maxLabelValues = positive(maxLabelValues, "maxLabelValues");
      return this;
    }

    /**
     * Sets the {@code http_request_duration_seconds} bucket bounds in seconds: positive, finite,
     * strictly increasing. Default the guide's 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10; the
     * guide's latency queries assume them, so change them only with the queries.
     */
    public Builder durationBuckets(double... seconds) {
      this.durationBuckets = buckets(seconds, "durationBuckets");
      return this;
    }

    /**
     * Sets the {@code ai_processing_duration_seconds} bucket bounds in seconds: positive, finite,
     * strictly increasing. Default 0.1 0.25 0.5 1 2 5 10 20 30 60 120.
     */
    public Builder aiDurationBuckets(double... seconds) {
      this.aiDurationBuckets = buckets(seconds, "aiDurationBuckets");
      return this;
    }

    /**
     * Sets whether Micrometer's JVM and process meters are bound (memory, garbage collection,
     * threads, class loading, CPU, uptime, file descriptors). Default true. So that the scrape
     * passes {@code promtool check metrics}, Micrometer's {@code system.cpu.count} is exposed as
     * {@code system_cpu_logical_processors} and {@code process.cpu.time} (nanoseconds, named {@code
     * process_cpu_time_ns_total}) is left out; {@code process_cpu_usage} remains.
     */
    public Builder bindJvmMetrics(boolean bindJvmMetrics) {
      this.bindJvmMetrics = bindJvmMetrics;
      return this;
    }

    /**
     * Declares the service's route templates, which always keep their own {@code endpoint} value
     * and do not count against {@link #maxEndpoints}, so that unmatched traffic can never crowd
     * them out. Replaces earlier declarations; default none. Each must be non-blank and at most 256
     * characters.
     */
    public Builder routes(String... routeTemplates) {
      requireNonNull(routeTemplates, "routeTemplates");
      List<String> checked = new ArrayList<>(routeTemplates.length);
      for (String route : routeTemplates) {
        checked.add(HttpServerMetrics.checkRoute(route));
      }
      this.routes = List.copyOf(checked);
      return this;
    }

    /** Registers the meters and returns the metrics. */
    public ConeaMetrics build() {
      return new ConeaMetrics(
          registry,
          maxEndpoints,
          maxLabelValues,
          durationBuckets,
          aiDurationBuckets,
          bindJvmMetrics,
          routes);
    }

    private static int positive(int value, String name) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive, but was " + value);
      }
      return value;
    }

    private static Duration[] buckets(double[] seconds, String name) {
      requireNonNull(seconds, name);
      if (seconds.length == 0) {
        throw new IllegalArgumentException(name + " must not be empty");
      }
      for (int i = 0; i < seconds.length; i++) {
        double bound = seconds[i];
        if (!(bound > 0) || bound == Double.POSITIVE_INFINITY) {
          throw new IllegalArgumentException(
              name
                  + " must be positive and finite, but "
                  + Arrays.toString(seconds)
                  + " has "
                  + bound);
        }
        if (i > 0 && !(bound > seconds[i - 1])) {
          throw new IllegalArgumentException(
              name
                  + " must be strictly increasing, but in "
                  + Arrays.toString(seconds)
                  + " "
                  + bound
                  + " follows "
                  + seconds[i - 1]);
        }
      }
      Duration[] durations = toDurations(seconds);
      for (int i = 0; i < durations.length; i++) {
        if (durations[i].isZero() || (i > 0 && durations[i].compareTo(durations[i - 1]) <= 0)) {
          throw new IllegalArgumentException(
              name
                  + " must be at least one nanosecond apart, but "
                  + Arrays.toString(seconds)
                  + " are not");
        }
      }
      return durations;
    }

    private static Duration[] toDurations(double[] seconds) {
      Duration[] durations = new Duration[seconds.length];
      for (int i = 0; i < seconds.length; i++) {
        durations[i] = Duration.ofNanos(Math.round(seconds[i] * 1e9));
      }
      return durations;
    }
  }
}
