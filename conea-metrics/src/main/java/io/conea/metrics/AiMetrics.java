package io.conea.metrics;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guide's AI model meters, for services that call language models.
 *
 * <ul>
 *   <li>{@code ai_model_requests_total{model,provider,status}}, status {@code success} or {@code
 *       error}, exactly the guide's labels;
 *   <li>{@code ai_model_errors_total{model,provider,error_type}}, one per failed call, by kind of
 *       error (such as the exception's simple class name, see {@link AiCallOutcome}), so that the
 *       guide's series keep their labels and the breakdown of errors is one query away;
 *   <li>{@code ai_tokens_total{model,provider,type}}, type {@code input} or {@code output}, so that
 *       {@code sum by (model)} is the real token total;
 *   <li>{@code ai_processing_duration_seconds{model,provider}}, a histogram with buckets suited to
 *       model latency (by default 0.1 0.25 0.5 1 2 5 10 20 30 60 120 seconds);
 *   <li>{@code ai_cost_usd_total{model,provider}}, the cost in US dollars.
 * </ul>
 *
 * <p>{@code model}, {@code provider} and {@code error_type} come from user data, so each is capped
 * at {@code maxLabelValues} distinct values; the rest, and null or blank values, are recorded as
 * {@value ConeaMetrics#OTHER} with one warning. As their combinations could still multiply, each
 * family also keeps at most {@code maxLabelCombinations} of them ({@code (model, provider)}, and
 * {@code (model, provider, error_type)} for the errors), its overflow series included: a call with
 * a new combination past the cap is recorded with every one of these labels {@value
 * ConeaMetrics#OTHER} and {@code status} and {@code type} as they are, so every sum stays exact,
 * and is counted in {@code conea_label_overflow_total{meter}}, one series per family, with one
 * warning per family (see {@link ConeaMetrics.Builder#maxLabelCombinations}). Every meter name has
 * the same label keys in every series. Obtain an instance from {@link ConeaMetrics#ai()}.
 */
public final class AiMetrics {

  /** The {@code error_type} of failures of unknown kind (see {@link AiCallOutcome#failure}). */
  public static final String UNKNOWN_ERROR = "unknown";

  static final String REQUESTS = "ai.model.requests";
  static final String ERRORS = "ai.model.errors";
  static final String TOKENS = "ai.tokens";
  static final String DURATION = "ai.processing.duration";
  static final String COST = "ai.cost";

  static final String MODEL = "model";
  static final String PROVIDER = "provider";
  static final String TYPE = "type";
  static final String ERROR_TYPE = "error_type";

  private static final Logger logger = LoggerFactory.getLogger(AiMetrics.class);

  private final Registrations registrations;
  private final DurationHistogram durations;
  private final LabelCache<Provider> providers;
  private final LabelCache<String> models;
  private final LabelCache<String> errorTypes;

  /**
   * New pairs and new error combinations are created under this lock, so that the counts below
   * never pass their caps; known ones are found without it.
   */
  private final Object lock = new Object();

  /** The (model, provider) pairs kept, not counting the overflow pair. */
  private final AtomicInteger pairs = new AtomicInteger();

  /** How many combinations each family keeps beside its overflow one. */
  private final int maxKept;

  /** The (model, provider, error_type) combinations kept, not counting the overflow one. */
  private final AtomicInteger errorCombinations = new AtomicInteger();

  private final LabelOverflow[] pairOverflows;
  private final LabelOverflow errorOverflow;
  private volatile @Nullable ModelMeters overflowPair;
  private volatile @Nullable Counter overflowErrors;

  AiMetrics(
      Registrations registrations,
      Duration[] buckets,
      boolean nativeHistograms,
      int maxLabelValues,
      int maxLabelCombinations) {
    this.registrations = registrations;
    this.durations =
        new DurationHistogram(
            registrations,
            DURATION,
            "ai_processing_duration_seconds",
            "AI model processing latency",
            new String[] {MODEL, PROVIDER},
            buckets,
            nativeHistograms);
    Problems problems = registrations.problems();
    this.providers = new LabelCache<>(PROVIDER, maxLabelValues, Provider::new, problems);
    this.models = new LabelCache<>(MODEL, maxLabelValues, m -> m, problems);
    this.errorTypes = new LabelCache<>(ERROR_TYPE, maxLabelValues, t -> t, problems);
    errorTypes.reserve(UNKNOWN_ERROR, UNKNOWN_ERROR);
    // One slot of each cap is the overflow series'.
    this.maxKept = maxLabelCombinations - 1;
    String[] pairLabels = {MODEL, PROVIDER};
    String setting = "maxLabelCombinations";
    this.pairOverflows =
        new LabelOverflow[] {
          new LabelOverflow(
              registrations, "ai_model_requests_total", pairLabels, maxLabelCombinations, setting),
          new LabelOverflow(
              registrations, "ai_tokens_total", pairLabels, maxLabelCombinations, setting),
          new LabelOverflow(
              registrations, "ai_cost_usd_total", pairLabels, maxLabelCombinations, setting),
          new LabelOverflow(
              registrations,
              "ai_processing_duration_seconds",
              pairLabels,
              maxLabelCombinations,
              setting)
        };
    this.errorOverflow =
        new LabelOverflow(
            registrations,
            "ai_model_errors_total",
            new String[] {MODEL, PROVIDER, ERROR_TYPE},
            maxLabelCombinations,
            setting);
  }

  /**
   * Records one model call: counts it in {@code ai_model_requests_total} by status and, if it
   * failed, in {@code ai_model_errors_total} by its error type; adds its duration, tokens and cost.
   * Never throws, whatever the outcome holds: negative token counts, durations and costs, and a
   * non-finite cost, are reported once and not added; a blank or over-long error type, and new ones
   * past the cap, are recorded as {@value ConeaMetrics#OTHER}; a new label combination past the
   * family's cap is recorded in its overflow series and counted (see above).
   *
   * @throws NullPointerException if {@code outcome} is null
   */
  public void record(AiCallOutcome outcome) {
    requireNonNull(outcome, "outcome");
    String errorType = outcome.errorType();
    long durationNanos = outcome.durationNanos();
    long inputTokens = outcome.inputTokens();
    long outputTokens = outcome.outputTokens();
    double costUsd = outcome.costUsd();
    try {
      ModelMeters meters = meters(outcome.provider(), outcome.model());
      if (errorType == null) {
        meters.success.increment();
      } else {
        meters.error.increment();
        errors(meters, errorTypes.get(errorType)).increment();
      }
      if (durationNanos < 0) {
        invalid("AI duration", durationNanos);
        durationNanos = 0;
      }
      meters.duration.record(durationNanos);
      if (inputTokens > 0) {
        meters.inputTokens.increment(inputTokens);
      } else if (inputTokens < 0) {
        invalid("AI input token count", inputTokens);
      }
      if (outputTokens > 0) {
        meters.outputTokens.increment(outputTokens);
      } else if (outputTokens < 0) {
        invalid("AI output token count", outputTokens);
      }
      if (costUsd > 0 && costUsd < Double.POSITIVE_INFINITY) {
        meters.cost.increment(costUsd);
      } else if (costUsd != 0) {
        invalid("AI cost", costUsd);
      }
    } catch (RuntimeException | LinkageError e) {
      registrations.recordingFailed("an AI model call", e);
    }
  }

  private ModelMeters meters(@Nullable String provider, @Nullable String model) {
    Provider p = providers.get(provider);
    if (model != null) {
      ModelMeters known = p.models.get(model);
      if (known != null) {
        return known;
      }
    }
    String value = models.get(model);
    ModelMeters meters = p.models.get(value);
    return meters != null ? meters : newPair(p, value);
  }

  /** The meters of a pair seen for the first time, or of the overflow pair past the cap. */
  private ModelMeters newPair(Provider provider, String model) {
    if (ConeaMetrics.OTHER.equals(model) && ConeaMetrics.OTHER.equals(provider.name)) {
      return overflowPair();
    }
    // Checked before the lock too, so that calls past the cap do not queue on it.
    if (pairs.get() < maxKept) {
      synchronized (lock) {
        ModelMeters known = provider.models.get(model);
        if (known != null) {
          return known;
        }
        if (pairs.get() < maxKept) {
          ModelMeters created = new ModelMeters(provider.name, model);
          provider.models.put(model, created);
          pairs.incrementAndGet();
          return created;
        }
      }
    }
    for (LabelOverflow overflow : pairOverflows) {
      overflow.collapsed(model, provider.name, null);
    }
    return overflowPair();
  }

  /** The meters of {@code (_OTHER, _OTHER)}, which are not counted against the cap. */
  private ModelMeters overflowPair() {
    ModelMeters known = overflowPair;
    if (known != null) {
      return known;
    }
    synchronized (lock) {
      if (overflowPair == null) {
        Provider other = providers.get(ConeaMetrics.OTHER);
        overflowPair =
            other.models.computeIfAbsent(
                ConeaMetrics.OTHER, m -> new ModelMeters(ConeaMetrics.OTHER, m));
      }
      return overflowPair;
    }
  }

  private Counter errors(ModelMeters meters, String errorType) {
    Counter known = meters.errors.get(errorType);
    return known != null ? known : newErrors(meters, errorType);
  }

  /** The counter of an error combination seen for the first time, or the overflow one. */
  private Counter newErrors(ModelMeters meters, String errorType) {
    if (ConeaMetrics.OTHER.equals(errorType)
        && ConeaMetrics.OTHER.equals(meters.model)
        && ConeaMetrics.OTHER.equals(meters.provider)) {
      return overflowErrors();
    }
    if (errorCombinations.get() < maxKept) {
      synchronized (lock) {
        Counter known = meters.errors.get(errorType);
        if (known != null) {
          return known;
        }
        if (errorCombinations.get() < maxKept) {
          Counter created = meters.newErrors(errorType);
          meters.errors.put(errorType, created);
          errorCombinations.incrementAndGet();
          return created;
        }
      }
    }
    errorOverflow.collapsed(meters.model, meters.provider, errorType);
    return overflowErrors();
  }

  /** The counter of {@code (_OTHER, _OTHER, _OTHER)}, which is not counted against the cap. */
  private Counter overflowErrors() {
    Counter known = overflowErrors;
    if (known != null) {
      return known;
    }
    ModelMeters pair = overflowPair();
    synchronized (lock) {
      if (overflowErrors == null) {
        overflowErrors = pair.errors.computeIfAbsent(ConeaMetrics.OTHER, t -> pair.newErrors(t));
      }
      return overflowErrors;
    }
  }

  /** {@code what} is a constant and the problem's key, so a repeated problem does not allocate. */
  private void invalid(String what, Object value) {
    if (registrations.problems().firstTime(what)) {
      logger.warn(
          "An invalid {} ({}) was not added; later invalid values are skipped the same way"
              + " without another warning",
          what,
          value);
    }
  }

  /** One provider value and the model values seen with it. */
  private static final class Provider {

    final String name;
    final ConcurrentHashMap<String, ModelMeters> models = new ConcurrentHashMap<>();

    Provider(String name) {
      this.name = name;
    }
  }

  /** All meters of one (provider, model), registered together so that absent means zero. */
  private final class ModelMeters {

    final String model;
    final String provider;
    final Tags tags;
    final Counter success;
    final Counter error;
    final Counter inputTokens;
    final Counter outputTokens;
    final Counter cost;
    final DurationHistogram.Recorder duration;

    /** By error type; new ones are added under the lock, within the cap on combinations. */
    final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();

    ModelMeters(String provider, String model) {
      this.model = model;
      this.provider = provider;
      tags = Tags.of(MODEL, model, PROVIDER, provider);
      String requests = "Total AI model requests";
      Tags successTags = tags.and(ConeaMetrics.STATUS, "success");
      success = registrations.counter(REQUESTS, requests, null, successTags);
      error =
          registrations.counter(REQUESTS, requests, null, tags.and(ConeaMetrics.STATUS, "error"));
      String tokens = "Total AI model tokens, by type: input (prompt) or output (completion)";
      inputTokens = registrations.counter(TOKENS, tokens, null, tags.and(TYPE, "input"));
      outputTokens = registrations.counter(TOKENS, tokens, null, tags.and(TYPE, "output"));
      cost = registrations.counter(COST, "Total AI model cost in US dollars", "usd", tags);
      duration = durations.series(success, REQUESTS, successTags, model, provider);
    }

    Counter newErrors(String errorType) {
      return registrations.counter(
          ERRORS,
          "Total failed AI model requests, by kind of error",
          null,
          tags.and(ERROR_TYPE, errorType));
    }
  }
}
