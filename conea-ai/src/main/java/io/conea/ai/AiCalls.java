package io.conea.ai;

import static java.util.Objects.requireNonNull;

import io.conea.ai.AiCall.Usage;
import io.conea.metrics.AiCallOutcome;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.internal.MdcKeys;
import io.conea.metrics.internal.Problems;
import io.micrometer.core.instrument.Counter;
import io.opentelemetry.api.OpenTelemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Records AI model calls in the guide's AI metrics, with their cost from an {@link AiPricing} and,
 * given an {@code OpenTelemetry}, a CLIENT span per call. It backs {@link AiModelCallAspect}, and
 * serves code without AOP directly:
 *
 * <pre>{@code
 * AiCalls recorder = AiCalls.create(coneaMetrics, AiPricing.defaults(), openTelemetry);
 *
 * ChatReply reply = recorder.call("openai", "gpt-4", () -> client.chat(prompt));
 *
 * try (AiCall call = recorder.start("anthropic", "claude-3-5-sonnet")) {   // streaming
 *   ... read the stream ...
 *   call.usage(inputTokens, outputTokens);
 * }
 * }</pre>
 *
 * <p>Each call is counted once in {@code ai_model_requests_total{model,provider,status}} (and, if
 * it failed, in {@code ai_model_errors_total{model,provider,error_type}} by the exception's simple
 * class name), timed in {@code ai_processing_duration_seconds}, and its tokens and cost are added
 * to {@code ai_tokens_total{type="input"|"output"}} and {@code ai_cost_usd_total}. A {@link
 * CompletionStage} result is recorded when it completes, timed from the start of the call until
 * then. For a plain {@link CompletableFuture} the caller gets a future that completes identically
 * (same value, same exception instance) just after the call is recorded, and whose cancellation
 * cancels the original; any other stage is returned as is, and code chained on it may run before
 * the call is recorded. The labels stay bounded whatever names the calls use: past the caps on
 * values and on label combinations, calls are recorded with {@code model} and {@code provider}
 * {@value ConeaMetrics#OTHER} and counted in {@code conea_label_overflow_total} (see {@link
 * io.conea.metrics.AiMetrics}).
 *
 * <p>The tokens come, first found first: from {@link AiCall#usage} reported during the call; from
 * the result if it implements {@link AiUsage}; from an {@linkplain Builder#usageExtractor
 * extractor} registered for the result's type. The cost is the price of the model that answered
 * ({@link AiUsage#model()}) if the pricing has it, else of the model requested; a model with no
 * price has its tokens recorded and no cost, with one warning per model (up to {@value
 * #MAX_WARNED_MODELS} models).
 *
 * <p>Recording never changes what the call returns or throws: an exception is recorded and rethrown
 * as the same instance, and a failure in an extractor, an {@link AiUsage}, the metrics or the
 * tracing is counted in {@code conea_ai_recording_failures_total{stage}} ({@code stage} one of
 * {@code usage}, {@code tracing}, {@code recording}) and logged once per stage.
 *
 * <p>While a call runs on the thread that started it, the SLF4J MDC holds {@value #MDC_MODEL} and
 * {@value #MDC_PROVIDER} (restored afterwards), so log lines written by the call carry them; list
 * them in the encoder's {@code includeMdcKeys} to write them into {@code metadata}. After the call,
 * for the handler's own log line, {@link AiCall} holds the tokens and cost that were recorded, and
 * {@link #costUsd(String, AiUsage)} prices a result's usage the same way.
 *
 * <p>The per-call bookkeeping is a handful of small objects, nothing beside a model call; the
 * meters underneath record without allocating.
 */
public final class AiCalls {

  /** The MDC key that holds the model while a call runs. */
  public static final String MDC_MODEL = MdcKeys.MODEL;

  /** The MDC key that holds the provider while a call runs. */
  public static final String MDC_PROVIDER = MdcKeys.PROVIDER;

  /** The GenAI operation of calls that name none. */
  public static final String DEFAULT_OPERATION = "chat";

  /** How many models without a price get their own warning. */
  public static final int MAX_WARNED_MODELS = 100;

  /** Model and provider names are cut to this length for the MDC and spans. */
  static final int MAX_NAME_LENGTH = AiPricing.MAX_MODEL_LENGTH;

  static final String FAILURES = "conea.ai.recording.failures";
  static final String STAGE_USAGE = "usage";
  static final String STAGE_TRACING = "tracing";
  static final String STAGE_RECORDING = "recording";

  private static final Logger logger = LoggerFactory.getLogger(AiCalls.class);

  private final ConeaMetrics metrics;
  private final AiPricing pricing;
  private final CallTracing tracing;
  private final boolean mdc;
  private final List<Extractor<?>> extractors;
  private final ClassValue<Extractor<?>> extractorByType;
  private final Counter usageFailures;
  private final Counter tracingFailures;
  private final Counter recordingFailures;
  private final Problems problems = new Problems();
  private final Set<String> unpricedModels = ConcurrentHashMap.newKeySet();

  AiCalls(
      ConeaMetrics metrics,
      AiPricing pricing,
      CallTracing tracing,
      boolean mdc,
      List<Extractor<?>> extractors) {
    this.metrics = metrics;
    this.pricing = pricing;
    this.tracing = tracing;
    this.mdc = mdc;
    this.extractors = List.copyOf(extractors);
    this.extractorByType =
        new ClassValue<>() {
          @Override
          protected Extractor<?> computeValue(Class<?> type) {
            for (Extractor<?> extractor : AiCalls.this.extractors) {
              if (extractor.type.isAssignableFrom(type)) {
                return extractor;
              }
            }
            return Extractor.NONE;
          }
        };
    this.usageFailures = failureCounter(metrics, STAGE_USAGE);
    this.tracingFailures = failureCounter(metrics, STAGE_TRACING);
    this.recordingFailures = failureCounter(metrics, STAGE_RECORDING);
  }

  /**
   * Returns a recorder on {@code metrics}, pricing calls with {@code pricing} and tracing them with
   * {@code openTelemetry}. Without tracing, use {@link #builder}.
   */
  public static AiCalls create(
      ConeaMetrics metrics, AiPricing pricing, OpenTelemetry openTelemetry) {
    return builder(metrics).pricing(pricing).openTelemetry(openTelemetry).build();
  }

  /**
   * Returns a builder for a recorder on {@code metrics}: default pricing {@link
   * AiPricing#defaults()}, no spans, MDC on, no extractors.
   */
  public static Builder builder(ConeaMetrics metrics) {
    return new Builder(metrics);
  }

  /**
   * Runs {@code call} as one call of {@code model} at {@code provider} and records it; the result
   * or exception is passed on unchanged. A {@link CompletionStage} result is recorded when it
   * completes (see above for the future returned). A null or blank provider or model is recorded as
   * {@value ConeaMetrics#OTHER}.
   */
  public <T> T call(@Nullable String provider, @Nullable String model, Supplier<T> call) {
    requireNonNull(call, "call");
    try {
      @SuppressWarnings("unchecked")
      T result = (T) invoke(DEFAULT_OPERATION, name(provider), name(model), call::get);
      return result;
    } catch (Throwable t) {
      throw AiCalls.<RuntimeException>rethrow(t);
    }
  }

  /** As {@link #call(String, String, Supplier)}, for a call that throws checked exceptions. */
  public <T> T callChecked(@Nullable String provider, @Nullable String model, Callable<T> call)
      throws Exception {
    requireNonNull(call, "call");
    try {
      @SuppressWarnings("unchecked")
      T result = (T) invoke(DEFAULT_OPERATION, name(provider), name(model), call::call);
      return result;
    } catch (Throwable t) {
      throw AiCalls.<Exception>rethrow(t);
    }
  }

  /**
   * Starts a call of {@code model} at {@code provider} that the caller ends with {@link
   * AiCall#close()} on this thread, for streaming and other calls that are not one method. Until
   * then it is {@link AiCall#current()} here. A null or blank provider or model is recorded as
   * {@value ConeaMetrics#OTHER}, unless given later on the call.
   */
  public AiCall start(@Nullable String provider, @Nullable String model) {
    return begin(DEFAULT_OPERATION, name(provider), name(model));
  }

  /** Returns the prices calls are recorded with. */
  public AiPricing pricing() {
    return pricing;
  }

  /**
   * Returns the cost in US dollars that a call of {@code model} using {@code usage} is recorded
   * with: by the price of the model that answered ({@link AiUsage#model()}) if the pricing has one,
   * else of {@code model}; empty if neither has a price. It lets the code around an {@link
   * AiModelCall} method log the cost beside the tokens of the result it got:
   *
   * <pre>{@code
   * ChatReply reply = client.ask(prompt);            // @AiModelCall, ChatReply implements AiUsage
   * log.atInfo()
   *     .addKeyValue("tokens", reply.inputTokens() + reply.outputTokens())
   *     .addKeyValue("cost", recorder.costUsd("gpt-4", reply).orElse(0))
   *     .log("AI chat request completed");
   * }</pre>
   */
  public OptionalDouble costUsd(@Nullable String model, AiUsage usage) {
    requireNonNull(usage, "usage");
    Usage read = read(usage);
    if (read == null) {
      return OptionalDouble.empty();
    }
    AiPricing.Price price = price(model, read.model());
    return price == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(price.costUsd(read.inputTokens(), read.outputTokens()));
  }

  /**
   * Runs one call: the aspect's and {@link #call}'s common path. Throws exactly what {@code
   * invocation} throws.
   */
  @Nullable Object invoke(
      String operation, @Nullable String provider, @Nullable String model, Invocation invocation)
      throws Throwable {
    AiCall call = begin(operation, provider, model);
    Object result;
    try {
      result = invocation.proceed();
    } catch (Throwable t) {
      call.leave();
      call.end(null, t, false);
      throw t;
    }
    call.leave();
    if (result instanceof CompletionStage) {
      return onCompletion(call, (CompletionStage<?>) result);
    }
    call.end(result, null, false);
    return result;
  }

  /**
   * Ends the call when {@code stage} completes. A plain {@link CompletableFuture} is replaced by
   * one that completes identically right after the call is recorded: code chained by the caller
   * would otherwise run first (a future runs its last-added dependents first) and its time would
   * count as the model's. Cancelling the returned future cancels the original. Any other stage is
   * returned as is.
   */
  private CompletionStage<?> onCompletion(AiCall call, CompletionStage<?> stage) {
    try {
      if (stage.getClass() == CompletableFuture.class) {
        CompletableFuture<?> source = (CompletableFuture<?>) stage;
        CompletableFuture<Object> copy = new CompletableFuture<>();
        source.whenComplete(
            (value, error) -> {
              try {
                call.end(value, error, false);
              } finally {
                if (error == null) {
                  copy.complete(value);
                } else {
                  copy.completeExceptionally(error);
                }
              }
            });
        copy.whenComplete(
            (value, error) -> {
              if (copy.isCancelled()) {
                source.cancel(false);
              }
            });
        return copy;
      }
      stage.whenComplete((value, error) -> call.end(value, error, false));
    } catch (RuntimeException | LinkageError e) {
      // A stage that cannot take a callback still gets its call counted, without its outcome.
      failed(STAGE_RECORDING, recordingFailures, e);
      call.end(null, null, false);
    }
    return stage;
  }

  /** Starts a call and makes it current on this thread. */
  AiCall begin(String operation, @Nullable String provider, @Nullable String model) {
    String p = provider == null ? null : cap(provider);
    String m = model == null ? null : cap(model);
    CallTracing.CallSpan span = CallTracing.CallSpan.NONE;
    try {
      span = tracing.start(operation, p, m);
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_TRACING, tracingFailures, e);
    }
    AiCall call = new AiCall(this, operation, p, m, span);
    call.enter();
    return call;
  }

  /** Reads the usage a result carries, or null. Never throws. */
  @Nullable Usage usageOf(Object result) {
    if (result instanceof AiUsage) {
      return read((AiUsage) result);
    }
    Extractor<?> extractor;
    try {
      extractor = extractorByType.get(result.getClass());
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_USAGE, usageFailures, e);
      return null;
    }
    if (extractor == Extractor.NONE) {
      return null;
    }
    AiUsage usage;
    try {
      usage = extractor.extract(result);
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_USAGE, usageFailures, e);
      return null;
    }
    return usage == null ? null : read(usage);
  }

  /** Reads {@code usage} once, or null if it throws. */
  @Nullable Usage read(AiUsage usage) {
    try {
      String model = usage.model();
      String provider = usage.provider();
      return new Usage(
          usage.inputTokens(),
          usage.outputTokens(),
          model == null ? null : cap(model),
          provider == null ? null : cap(provider));
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_USAGE, usageFailures, e);
      return null;
    }
  }

  /**
   * The cost of a call, NaN if neither the answering nor the requested model has a price; warns
   * once per model that has tokens and no price.
   */
  double costUsd(
      @Nullable String model, @Nullable String responseModel, long inputTokens, long outputTokens) {
    AiPricing.Price price = price(model, responseModel);
    if (price != null) {
      return price.costUsd(inputTokens, outputTokens);
    }
    if (inputTokens > 0 || outputTokens > 0) {
      unpriced(responseModel != null ? responseModel : model);
    }
    return Double.NaN;
  }

  /**
   * The price a call is recorded with: that of the model that answered if the pricing has one, else
   * that of the model requested; null if neither has a price.
   */
  private AiPricing.@Nullable Price price(@Nullable String model, @Nullable String responseModel) {
    AiPricing.Price price = pricing.price(responseModel);
    return price != null ? price : pricing.price(model);
  }

  /** Records the metrics of one ended call. Never throws. */
  void record(AiCallOutcome outcome) {
    try {
      metrics.ai().record(outcome);
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_RECORDING, recordingFailures, e);
    }
  }

  /** Runs a span operation; a failing tracer costs the span, never the call. */
  void traced(Runnable operation) {
    try {
      operation.run();
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_TRACING, tracingFailures, e);
    }
  }

  boolean mdcEnabled() {
    return mdc;
  }

  @Nullable String mdcGet(String key) {
    try {
      return MDC.get(key);
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_RECORDING, recordingFailures, e);
      return null;
    }
  }

  /** Puts {@code value} under {@code key}, or removes the key for null; when MDC is on. */
  void mdc(String key, @Nullable String value) {
    if (!mdc) {
      return;
    }
    try {
      if (value == null) {
        MDC.remove(key);
      } else {
        MDC.put(key, value);
      }
    } catch (RuntimeException | LinkageError e) {
      failed(STAGE_RECORDING, recordingFailures, e);
    }
  }

  /** Counts and reports, once, a failure outside a call's own bookkeeping. */
  void recordingFailed(Throwable e) {
    failed(STAGE_RECORDING, recordingFailures, e);
  }

  /** A report to a call that has ended is a bug in the calling code: say so once. */
  void late(String what) {
    if (problems.firstTime("late:" + what)) {
      logger.warn(
          "An AI call's {} was reported after the call had ended and was dropped; report it"
              + " before the method returns or its future completes. Not logged again.",
          what);
    }
  }

  static String cap(String name) {
    return name.length() <= MAX_NAME_LENGTH ? name : name.substring(0, MAX_NAME_LENGTH);
  }

  private void unpriced(@Nullable String model) {
    String key = String.valueOf(model);
    if (unpricedModels.contains(key)) {
      return;
    }
    if (unpricedModels.size() >= MAX_WARNED_MODELS) {
      if (problems.firstTime("unpriced.overflow")) {
        logger.warn(
            "More than {} AI models without a price; their tokens are recorded without cost and"
                + " further such models are not logged",
            MAX_WARNED_MODELS);
      }
      return;
    }
    if (unpricedModels.add(key)) {
      logger.warn(
          "AI model \"{}\" has no price, so its tokens are recorded without cost; add it to the"
              + " AiPricing (USD per 1,000 tokens). Not logged again for this model.",
          key);
    }
  }

  private void failed(String stage, Counter counter, Throwable e) {
    try {
      counter.increment();
    } catch (RuntimeException | LinkageError ignored) {
      // The warning below still tells.
    }
    if (problems.firstTime("failed:" + stage)) {
      logger.warn(
          "Recording an AI call failed at stage {}; the call itself is unaffected. Counted in"
              + " conea_ai_recording_failures_total{stage=\"{}\"}, not logged again.",
          stage,
          stage,
          e);
    }
  }

  private static Counter failureCounter(ConeaMetrics metrics, String stage) {
    return Counter.builder(FAILURES)
        .description(
            "AI calls whose usage, span or metrics could not be recorded in full, by stage")
        .tag("stage", stage)
        .register(metrics.registry());
  }

  private static @Nullable String name(@Nullable String value) {
    return value == null || value.isBlank() ? null : value;
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E rethrow(Throwable t) throws E {
    throw (E) t;
  }

  /** The body of one call: a join point, a supplier, a callable. */
  @FunctionalInterface
  interface Invocation {
    @Nullable Object proceed() throws Throwable;
  }

  /** A registered usage extractor for results of one type. */
  static final class Extractor<T> {

    /** Stands for "no extractor fits" in the per-type cache. */
    static final Extractor<Object> NONE = new Extractor<>(Object.class, result -> null);

    final Class<T> type;
    final Function<? super T, ? extends @Nullable AiUsage> function;

    Extractor(Class<T> type, Function<? super T, ? extends @Nullable AiUsage> function) {
      this.type = type;
      this.function = function;
    }

    @Nullable AiUsage extract(Object result) {
      return function.apply(type.cast(result));
    }
  }

  /**
   * Configures {@link AiCalls}. Every setter checks its argument at once and throws {@link
   * NullPointerException} for null.
   */
  public static final class Builder {

    private final ConeaMetrics metrics;
    private AiPricing pricing = AiPricing.defaults();
    private CallTracing tracing = CallTracing.NONE;
    private boolean mdc = true;
    private final List<Extractor<?>> extractors = new ArrayList<>();

    Builder(ConeaMetrics metrics) {
      this.metrics = requireNonNull(metrics, "metrics");
    }

    /** Sets the prices that costs are computed with. Default {@link AiPricing#defaults()}. */
    public Builder pricing(AiPricing pricing) {
      this.pricing = requireNonNull(pricing, "pricing");
      return this;
    }

    /**
     * Sets the OpenTelemetry instance whose tracer starts a CLIENT span per call. Default none: no
     * spans, and opentelemetry-api need not be on the class path.
     */
    public Builder openTelemetry(OpenTelemetry openTelemetry) {
      this.tracing = new OpenTelemetryCallTracing(requireNonNull(openTelemetry, "openTelemetry"));
      return this;
    }

    /**
     * Sets whether the MDC holds {@value AiCalls#MDC_MODEL} and {@value AiCalls#MDC_PROVIDER} while
     * a call runs. Default true.
     */
    public Builder mdc(boolean mdc) {
      this.mdc = mdc;
      return this;
    }

    /**
     * Registers how to read the usage from results of {@code type} (and its subtypes), such as a
     * provider SDK's response; the function may return null when a result has no usage. Results
     * that implement {@link AiUsage} need none. The first registration that fits a result's type is
     * used.
     */
    public <T> Builder usageExtractor(
        Class<T> type, Function<? super T, ? extends @Nullable AiUsage> extractor) {
      extractors.add(
          new Extractor<>(requireNonNull(type, "type"), requireNonNull(extractor, "extractor")));
      return this;
    }

    /** Returns the recorder. */
    public AiCalls build() {
      return new AiCalls(metrics, pricing, tracing, mdc, extractors);
    }
  }
}
