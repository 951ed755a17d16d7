package io.conea.metrics;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.HttpMethods;
import io.conea.metrics.internal.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
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
 *   <li>{@code conea_label_overflow_total{meter}}: recordings collapsed into a family's overflow
 *       series past its cap on label combinations, registered on the first such recording (see
 *       {@link Builder#maxLabelCombinations}).
 * </ul>
 *
 * <p>The registry is left as found: no {@code MeterFilter} is added to it, and Micrometer's JVM and
 * process meters are the registry owner's to bind (Spring Boot's auto-configuration does, and so
 * does {@link PrometheusMetrics}, the registry conea creates). {@link Builder#bindJvmMetrics} binds
 * them on a registry that has none.
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
 * <p>On a {@link io.micrometer.prometheusmetrics.PrometheusMeterRegistry} (conea's own {@link
 * PrometheusMetrics}, Spring Boot's), the two duration histograms are recorded with the Prometheus
 * client's own histogram, registered on the Prometheus registry that the Micrometer registry
 * scrapes: the same names, labels, help and buckets, exemplars sampled from the registry's span
 * context as Micrometer samples them, each series resolved once, and no {@code _max} gauge. If the
 * registry's meter filters change conea's meters (common tags, renames, denials), or on any other
 * registry (OTLP, a composite, {@code SimpleMeterRegistry}), Micrometer timers record them, and
 * Micrometer adds one gauge per timer: {@code http_request_duration_seconds_max} and {@code
 * ai_processing_duration_seconds_max}, the largest duration in a recent time window. Neither format
 * has {@code _created} series unless the Prometheus client is configured to include created
 * timestamps.
 *
 * <p>Recording methods never throw and, for values seen before, allocate nothing. Closing stops the
 * JVM garbage collection listener; the other meters stay registered.
 */
public final class ConeaMetrics implements AutoCloseable {

  /** The value that unknown, invalid or over-the-cap label values collapse into. */
  public static final String OTHER = HttpMethods.OTHER;

  /** Default of {@link Builder#maxEndpoints}. */
  public static final int DEFAULT_MAX_ENDPOINTS = 100;

  /** Default of {@link Builder#maxLabelValues}. */
  public static final int DEFAULT_MAX_LABEL_VALUES = 100;

  /** Default of {@link Builder#maxLabelCombinations}. */
  public static final int DEFAULT_MAX_LABEL_COMBINATIONS = 500;

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

  /**
   * One connection count per registry, whatever the number of ConeaMetrics on it: Micrometer binds
   * a gauge to the first object registered under its name and ignores later ones.
   */
  private static final Map<MeterRegistry, AtomicLong> CONNECTIONS_BY_REGISTRY =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final AtomicLong connections;
  private final @Nullable JvmMeters jvmMeters;
  private final AtomicBoolean closed = new AtomicBoolean();

  ConeaMetrics(
      MeterRegistry registry,
      int maxEndpoints,
      int maxLabelValues,
      int maxLabelCombinations,
      Duration[] httpBuckets,
      Duration[] aiBuckets,
      boolean nativeHistograms,
      boolean bindJvmMetrics,
      List<String> routes) {
    this.registry = registry;
    this.registrations = new Registrations(registry, new Problems());
    this.http =
        new HttpServerMetrics(registrations, httpBuckets, nativeHistograms, maxEndpoints, routes);
    this.ai =
        new AiMetrics(
            registrations, aiBuckets, nativeHistograms, maxLabelValues, maxLabelCombinations);
    // job_type is the family's only user-data label: its cap is the cap on combinations, the
    // _OTHER series included.
    int maxJobTypes = Math.min(maxLabelValues, maxLabelCombinations - 1);
    LabelOverflow jobsOverflow =
        new LabelOverflow(
            registrations,
            "data_processing_jobs_total",
            new String[] {JOB_TYPE},
            maxJobTypes + 1,
            maxLabelValues < maxLabelCombinations ? "maxLabelValues" : "maxLabelCombinations");
    this.jobs =
        new LabelCache<>(
            JOB_TYPE, maxJobTypes, JobCounters::new, registrations.problems(), jobsOverflow);
    this.userActivity =
        registrations.counter(USER_ACTIVITY, "Total user activity events", null, Tags.empty());
    AtomicLong shared;
    synchronized (CONNECTIONS_BY_REGISTRY) {
      shared = CONNECTIONS_BY_REGISTRY.get(registry);
      if (shared == null) {
        shared = new AtomicLong();
        CONNECTIONS_BY_REGISTRY.put(registry, shared);
        registrations.gauge(
            CONNECTIONS,
            "Number of TCP connections, by state",
            Tags.of(STATE, "established"),
            shared,
            AtomicLong::get);
      }
    }
    this.connections = shared;
    this.jvmMeters = bindJvmMetrics ? JvmMeters.bindMissing(registry) : null;
  }

  /**
   * Returns metrics with the defaults: the guide's buckets, {@value #DEFAULT_MAX_ENDPOINTS}
   * endpoints, {@value #DEFAULT_MAX_LABEL_VALUES} values per user-data label, {@value
   * #DEFAULT_MAX_LABEL_COMBINATIONS} label combinations per meter family fed by user data, no JVM
   * meters bound.
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
   * status {@code success} or {@code failure}. Never throws; null or blank job types are recorded
   * as {@value #OTHER}, and so are new ones past the cap (the smaller of {@link
   * Builder#maxLabelValues} and one less than {@link Builder#maxLabelCombinations}), counted in
   * {@code conea_label_overflow_total{meter="data_processing_jobs_total"}} with one warning.
   */
  public void recordJob(@Nullable String jobType, boolean success) {
    try {
      JobCounters counters = jobs.get(jobType);
      (success ? counters.success : counters.failure).increment();
    } catch (RuntimeException | LinkageError e) {
      registrations.recordingFailed("a data processing job", e);
    }
  }

  /** Counts one user action in {@code user_activity_total}. Never throws. */
  public void recordUserActivity() {
    try {
      userActivity.increment();
    } catch (RuntimeException | LinkageError e) {
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

  /**
   * Stops the JVM garbage collection listener, if {@link Builder#bindJvmMetrics} bound one.
   * Idempotent; recording keeps working.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && jvmMeters != null) {
      jvmMeters.close();
    }
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
    private int maxLabelCombinations = DEFAULT_MAX_LABEL_COMBINATIONS;
    private Duration[] durationBuckets = toDurations(HTTP_BUCKETS);
    private Duration[] aiDurationBuckets = toDurations(AI_BUCKETS);
    private boolean bindJvmMetrics;
    private boolean nativeHistograms;
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
     * {@code provider}, {@code error_type}) keeps before new ones are recorded as {@value
     * ConeaMetrics#OTHER}. Default {@value ConeaMetrics#DEFAULT_MAX_LABEL_VALUES}. The number of
     * series is bounded by {@link #maxLabelCombinations}, whatever the values' combinations.
     */
    public Builder maxLabelValues(int maxLabelValues) {
      this.maxLabelValues = positive(maxLabelValues, "maxLabelValues");
      return this;
    }

    /**
     * Sets how many distinct combinations of user-data label values each meter family fed by user
     * data keeps, its overflow series included: {@code (model, provider)} in each of {@code
     * ai_model_requests_total}, {@code ai_tokens_total}, {@code ai_cost_usd_total} and {@code
     * ai_processing_duration_seconds}; {@code (model, provider, error_type)} in {@code
     * ai_model_errors_total}; {@code job_type} in {@code data_processing_jobs_total}. Past it, each
     * new combination is recorded in the family's one overflow series, whose user-data labels are
     * all {@value ConeaMetrics#OTHER} and whose other labels ({@code status}, {@code type}) are
     * kept, so sums stay exact; every such recording is counted in {@code
     * conea_label_overflow_total{meter}} (the family's name as scraped) and the first one is logged
     * as one warning per family. The per-label cap ({@link #maxLabelValues}) still applies. Default
     * {@value ConeaMetrics#DEFAULT_MAX_LABEL_COMBINATIONS}; 1 keeps only the overflow series.
     */
    public Builder maxLabelCombinations(int maxLabelCombinations) {
      this.maxLabelCombinations = positive(maxLabelCombinations, "maxLabelCombinations");
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
     * Sets whether the duration histograms ({@code http_request_duration_seconds}, {@code
     * ai_processing_duration_seconds}) also carry a Prometheus native histogram beside their
     * classic buckets. Default false. Applies where the Prometheus client records them (a {@link
     * io.micrometer.prometheusmetrics.PrometheusMeterRegistry}, see the class comment); Prometheus
     * reads native histograms only from its protobuf scrape format, with {@code
     * --enable-feature=native-histograms} (2.40 and later) or {@code scrape_native_histograms}
     * (3.x); the text formats keep showing the classic buckets. A Prometheus that ingests native
     * histograms keeps the classic {@code _bucket} series, which the guide's queries read, only
     * when told to ({@code scrape_classic_histograms: true} from 2.45, {@code
     * always_scrape_classic_histograms} in 3.x). Other registries record the classic buckets only.
     * Recording then allocates a few bytes per request (the Prometheus client boxes the native
     * bucket index), where classic buckets alone allocate nothing.
     */
    public Builder nativeHistograms(boolean nativeHistograms) {
      this.nativeHistograms = nativeHistograms;
      return this;
    }

    /**
     * Sets whether Micrometer's JVM and process meters (memory, garbage collection, threads, class
     * loading, CPU, uptime, file descriptors) are bound on the registry. Default false: the
     * registry's owner binds them (Spring Boot's auto-configuration does, {@link PrometheusMetrics}
     * does). When true, each of Micrometer's binders is bound only if the registry does not have
     * its meters yet, so nothing is counted twice; no filter is added, so the names are
     * Micrometer's own ({@link PrometheusMetrics} renames the two that {@code promtool check
     * metrics} rejects).
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

    /**
     * Registers the meters and returns the metrics; fails if Micrometer is older than conea
     * supports.
     */
    public ConeaMetrics build() {
      Compatibility.require(ConeaMetrics.class, Compatibility.MICROMETER, Compatibility.SLF4J);
      return new ConeaMetrics(
          registry,
          maxEndpoints,
          maxLabelValues,
          maxLabelCombinations,
          durationBuckets,
          aiDurationBuckets,
          nativeHistograms,
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
