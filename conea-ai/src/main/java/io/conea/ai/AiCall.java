package io.conea.ai;

import static java.util.Objects.requireNonNull;

import io.conea.ai.CallTracing.CallSpan;
import io.conea.metrics.AiCallOutcome;
import io.conea.metrics.internal.Problems;
import java.util.OptionalDouble;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AI model call in progress, and its outcome once it has ended: the handle through which the
 * code making the call reports what only it knows (the model chosen at run time, the usage of a
 * streamed answer, a failure it handled), and reads the tokens and cost that were recorded.
 *
 * <p>Inside an {@link AiModelCall} method, or a lambda given to {@link AiCalls#call}, the call is
 * {@link #current()}; keep the reference for code that runs later on another thread:
 *
 * <pre>{@code
 * @AiModelCall(provider = "openai")
 * CompletableFuture<String> stream(@AiModel String model, String prompt) {
 *   AiCall call = AiCall.current();
 *   return client.stream(model, prompt, usage -> call.usage(usage.in(), usage.out()));
 * }
 * }</pre>
 *
 * <p>Started explicitly, it is closed by try-with-resources; a call closed before it reported
 * {@linkplain #usage(long, long) usage}, {@linkplain #success() success} or an {@linkplain
 * #error(Throwable) error} counts as an error of type {@value #INCOMPLETE}, so an exception that
 * leaves the block is never counted as a success:
 *
 * <pre>{@code
 * AiCall call = recorder.start("openai", "gpt-4o");
 * try (call) {
 *   Stream stream = client.stream(request);
 *   ... read the chunks ...
 *   call.usage(stream.inputTokens(), stream.outputTokens());
 * }
 * log.atInfo()
 *     .addKeyValue("model", call.model())
 *     .addKeyValue("tokens", call.totalTokens())
 *     .addKeyValue("cost", call.costUsd().orElse(0))
 *     .log("AI chat request completed");
 * }</pre>
 *
 * <p>After the call has ended its getters hold what was recorded, for log lines: {@link
 * #inputTokens()}, {@link #outputTokens()}, {@link #totalTokens()}, {@link #costUsd()}, {@link
 * #model()}, {@link #provider()}. While it runs on the thread that started it, the SLF4J MDC holds
 * {@value AiCalls#MDC_MODEL} and {@value AiCalls#MDC_PROVIDER} (see {@link
 * AiCalls.Builder#mdc(boolean)}).
 *
 * <p>Methods are thread-safe and never throw: null values are ignored, and a report that comes
 * after the call has ended, or to the no-op call that {@link #current()} returns outside any call,
 * is dropped with one warning.
 */
public final class AiCall implements AutoCloseable {

  /** The {@code error_type} of a call closed without usage, success or error. */
  public static final String INCOMPLETE = "incomplete";

  private static final Logger logger = LoggerFactory.getLogger(AiCall.class);
  private static final ThreadLocal<AiCall> CURRENT = new ThreadLocal<>();

  /** The problems of the no-op call, which has no recorder to report to: once per JVM. */
  private static final Problems problems = new Problems();

  private static final AiCall NOOP = new AiCall();

  private final @Nullable AiCalls recorder;
  private final String operation;
  private final long startNanos;
  private final CallSpan span;
  private final @Nullable Thread owner;

  // Guarded by this.
  private @Nullable String provider;
  private @Nullable String model;
  private @Nullable String responseModel;
  private long inputTokens;
  private long outputTokens;
  private boolean usageReported;
  private boolean succeeded;
  private @Nullable Throwable error;
  private @Nullable String errorType;
  private double costUsd = Double.NaN;
  private boolean ended;

  // Touched only by the owner thread, between enter() and leave().
  private boolean entered;
  private @Nullable AiCall previous;
  private @Nullable String previousMdcModel;
  private @Nullable String previousMdcProvider;

  private AiCall() {
    this.recorder = null;
    this.operation = AiCalls.DEFAULT_OPERATION;
    this.startNanos = 0;
    this.span = CallSpan.NONE;
    this.owner = null;
    this.ended = true;
  }

  AiCall(
      AiCalls recorder,
      String operation,
      @Nullable String provider,
      @Nullable String model,
      CallSpan span) {
    this.recorder = recorder;
    this.operation = operation;
    this.provider = provider;
    this.model = model;
    this.span = span;
    this.owner = Thread.currentThread();
    this.startNanos = System.nanoTime();
  }

  /**
   * Returns the call running on this thread: inside an {@link AiModelCall} method, a lambda given
   * to {@link AiCalls#call}, or between {@link AiCalls#start} and {@link #close()}. Elsewhere it
   * returns a call that ignores every report (and warns once), never null.
   */
  public static AiCall current() {
    AiCall current = CURRENT.get();
    return current != null ? current : NOOP;
  }

  /**
   * Sets the model requested, for a call whose model is known only at run time. It names the {@code
   * model} label and the span, and replaces the one given when the call started. Null or blank is
   * ignored.
   */
  public AiCall model(@Nullable String model) {
    if (model == null || model.isBlank()) {
      return this;
    }
    String value = AiCalls.cap(model);
    synchronized (this) {
      if (late("model")) {
        return this;
      }
      this.model = value;
    }
    if (Thread.currentThread() == owner && entered) {
      recorder().mdc(AiCalls.MDC_MODEL, value);
    }
    recorder().traced(() -> span.model(value));
    return this;
  }

  /**
   * Sets the provider, for a call whose provider is known only at run time. Null or blank is
   * ignored.
   */
  public AiCall provider(@Nullable String provider) {
    if (provider == null || provider.isBlank()) {
      return this;
    }
    String value = AiCalls.cap(provider);
    synchronized (this) {
      if (late("provider")) {
        return this;
      }
      this.provider = value;
    }
    if (Thread.currentThread() == owner && entered) {
      recorder().mdc(AiCalls.MDC_PROVIDER, value);
    }
    recorder().traced(() -> span.provider(value));
    return this;
  }

  /**
   * Reports the tokens the call used, replacing any earlier report, and marks it as answered. A
   * report wins over the usage a result carries.
   */
  public AiCall usage(long inputTokens, long outputTokens) {
    synchronized (this) {
      if (late("usage")) {
        return this;
      }
      this.inputTokens = inputTokens;
      this.outputTokens = outputTokens;
      this.usageReported = true;
      this.succeeded = true;
    }
    return this;
  }

  /**
   * Reports the tokens the call used, and the model and provider that answered if {@code usage}
   * names them, as {@link #usage(long, long)}. Null is ignored.
   */
  public AiCall usage(@Nullable AiUsage usage) {
    if (usage == null) {
      return this;
    }
    if (recorder == null) {
      late("usage");
      return this;
    }
    Usage read = recorder.read(usage);
    if (read != null) {
      synchronized (this) {
        if (late("usage")) {
          return this;
        }
        apply(read);
        this.succeeded = true;
      }
    }
    return this;
  }

  /** Marks the call as answered when there is no usage to report. */
  public AiCall success() {
    synchronized (this) {
      if (!late("success")) {
        this.succeeded = true;
      }
    }
    return this;
  }

  /**
   * Marks the call as failed with {@code error}, whose simple class name becomes the {@code
   * error_type}; also for a failure that the code handled, such as a fallback answer. Null is
   * ignored.
   */
  public AiCall error(@Nullable Throwable error) {
    if (error == null) {
      return this;
    }
    synchronized (this) {
      if (!late("error")) {
        this.error = error;
      }
    }
    return this;
  }

  /** Returns the provider: as given, or as the result reported; null if none was given. */
  public synchronized @Nullable String provider() {
    return provider;
  }

  /**
   * Returns the model the call was recorded under: the requested one or, if none was requested, the
   * one that answered; null if none is known.
   */
  public synchronized @Nullable String model() {
    return model != null ? model : responseModel;
  }

  /** Returns the input tokens reported so far, or recorded once the call has ended. */
  public synchronized long inputTokens() {
    return inputTokens;
  }

  /** Returns the output tokens reported so far, or recorded once the call has ended. */
  public synchronized long outputTokens() {
    return outputTokens;
  }

  /** Returns input plus output tokens, the guide's {@code tokens} log field. */
  public synchronized long totalTokens() {
    return inputTokens + outputTokens;
  }

  /**
   * Returns the cost in US dollars recorded for the call; empty before it has ended or when the
   * pricing has no price for its model.
   */
  public synchronized OptionalDouble costUsd() {
    return Double.isNaN(costUsd) ? OptionalDouble.empty() : OptionalDouble.of(costUsd);
  }

  /** Returns whether the call has ended and been recorded. */
  public synchronized boolean isEnded() {
    return ended;
  }

  /**
   * Ends a call started with {@link AiCalls#start} and records it: a success if it reported usage
   * or success, an error if it reported an error, otherwise an error of type {@value #INCOMPLETE}.
   * Idempotent. Must be called on the thread that started the call, as a try-with-resources block
   * does, so that the MDC and the current span are restored there.
   */
  @Override
  public void close() {
    if (recorder == null) {
      return;
    }
    leave();
    end(null, null, true);
  }

  /** Makes this call current on the owner thread, with its MDC entries and span. */
  void enter() {
    AiCalls r = recorder();
    previous = CURRENT.get();
    CURRENT.set(this);
    if (r.mdcEnabled()) {
      previousMdcModel = r.mdcGet(AiCalls.MDC_MODEL);
      previousMdcProvider = r.mdcGet(AiCalls.MDC_PROVIDER);
      r.mdc(AiCalls.MDC_MODEL, model);
      r.mdc(AiCalls.MDC_PROVIDER, provider);
    }
    r.traced(span::enter);
    entered = true;
  }

  /** Undoes {@link #enter()}; does nothing on another thread or a second time. */
  void leave() {
    if (!entered || Thread.currentThread() != owner) {
      return;
    }
    entered = false;
    AiCalls r = recorder();
    r.traced(span::exit);
    if (r.mdcEnabled()) {
      r.mdc(AiCalls.MDC_MODEL, previousMdcModel);
      r.mdc(AiCalls.MDC_PROVIDER, previousMdcProvider);
    }
    if (previous == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(previous);
      previous = null;
    }
  }

  /**
   * Ends the call once and records it. {@code thrown} is what the call threw or completed with;
   * {@code handle} selects {@link #close()}'s rule for calls that report no outcome. Never throws.
   */
  void end(@Nullable Object result, @Nullable Throwable thrown, boolean handle) {
    AiCalls r = recorder();
    try {
      record(r, result, thrown, handle);
    } catch (RuntimeException | LinkageError e) {
      r.recordingFailed(e);
    }
  }

  private void record(
      AiCalls r, @Nullable Object result, @Nullable Throwable thrown, boolean handle) {
    long durationNanos = System.nanoTime() - startNanos;
    boolean reported;
    synchronized (this) {
      if (ended) {
        return;
      }
      reported = usageReported;
    }
    // Outside the lock: an extractor or AiUsage is the service's code.
    Usage fromResult = result != null && thrown == null && !reported ? r.usageOf(result) : null;
    String recordProvider;
    String recordModel;
    String answered;
    long in;
    long out;
    boolean usageKnown;
    double cost;
    Throwable failure;
    String failureType;
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      if (fromResult != null && !usageReported) {
        apply(fromResult);
      }
      failure = unwrap(thrown != null ? thrown : error);
      if (failure != null) {
        failureType = errorType(failure);
      } else if (handle && !succeeded) {
        failureType = INCOMPLETE;
      } else {
        failureType = null;
      }
      errorType = failureType;
      recordProvider = provider;
      recordModel = model != null ? model : responseModel;
      answered = responseModel;
      usageKnown = usageReported;
      in = inputTokens;
      out = outputTokens;
      cost = r.costUsd(recordModel, answered, in, out);
      costUsd = cost;
    }
    r.record(
        new AiCallOutcome(
            recordProvider,
            recordModel,
            failureType,
            durationNanos,
            in,
            out,
            Double.isNaN(cost) ? 0 : cost));
    r.traced(
        () ->
            span.end(
                answered, usageKnown ? in : -1, usageKnown ? out : -1, cost, failure, failureType));
  }

  /** Takes a usage read from a result or report; the caller holds the lock. */
  private void apply(Usage usage) {
    inputTokens = usage.inputTokens();
    outputTokens = usage.outputTokens();
    usageReported = true;
    if (usage.model() != null) {
      responseModel = usage.model();
    }
    if (provider == null && usage.provider() != null) {
      provider = usage.provider();
    }
  }

  /** True, with one warning, if the call can no longer take {@code what}; caller holds the lock. */
  private boolean late(String what) {
    if (recorder == null) {
      if (problems.firstTime("outside a call")) {
        logger.warn(
            "AiCall.current() was used outside any AI call, so its {} was dropped; further"
                + " reports outside a call are dropped without another warning",
            what);
      }
      return true;
    }
    if (ended) {
      recorder.late(what);
      return true;
    }
    return false;
  }

  private AiCalls recorder() {
    // Only the no-op call has no recorder, and it never reaches the code that needs one.
    return requireNonNull(recorder, "recorder");
  }

  private static @Nullable Throwable unwrap(@Nullable Throwable thrown) {
    Throwable t = thrown;
    // A future that failed through a dependent stage wraps the cause; the cause is the error.
    for (int i = 0;
        i < 8
            && (t instanceof CompletionException || t instanceof ExecutionException)
            && t.getCause() != null;
        i++) {
      t = t.getCause();
    }
    return t;
  }

  /** The simple class name; for an anonymous or oddly named class, the binary name's last part. */
  static String errorType(Throwable error) {
    Class<?> type = error.getClass();
    String name = type.getName();
    try {
      String simple = type.getSimpleName();
      if (!simple.isEmpty()) {
        return simple;
      }
    } catch (RuntimeException | InternalError e) {
      // Some compilers emit class names that getSimpleName() cannot parse.
    }
    return name.substring(name.lastIndexOf('.') + 1);
  }

  @Override
  public synchronized String toString() {
    return "AiCall{operation="
        + operation
        + ", provider="
        + provider
        + ", model="
        + model()
        + ", inputTokens="
        + inputTokens
        + ", outputTokens="
        + outputTokens
        + (ended ? ", ended" + (errorType == null ? "" : ", error=" + errorType) : "")
        + '}';
  }

  /** Tokens and names read from an {@link AiUsage}, once, so a faulty one cannot change later. */
  record Usage(
      long inputTokens, long outputTokens, @Nullable String model, @Nullable String provider) {}
}
