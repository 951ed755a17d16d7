package io.conea.metrics;

import org.jspecify.annotations.Nullable;

/**
 * What one AI model call came to, as {@link AiMetrics#record(AiCallOutcome)} records it: who served
 * which model, whether and how it failed, how long it took, the tokens it used and what it cost.
 *
 * <pre>{@code
 * metrics.ai().record(AiCallOutcome.success("openai", "gpt-4", nanos, 1000, 250, 0.045));
 * metrics.ai().record(AiCallOutcome.failure("openai", "gpt-4", "RateLimited", nanos, 0, 0, 0));
 * }</pre>
 *
 * <p>It holds the values as given; {@link AiMetrics#record} checks them, so that recording never
 * throws.
 *
 * @param provider who serves the model, e.g. {@code openai}
 * @param model the model name, e.g. {@code gpt-4}
 * @param errorType null for a success; for a failure, a short, bounded name for the kind of error,
 *     such as the simple class name of the exception ({@code SocketTimeoutException}) or a
 *     provider's error code, {@value AiMetrics#UNKNOWN_ERROR} if the kind is not known
 * @param durationNanos how long the call took, in nanoseconds
 * @param inputTokens tokens sent to the model
 * @param outputTokens tokens the model produced
 * @param costUsd the cost of the call in US dollars, 0 if unknown
 */
public record AiCallOutcome(
    @Nullable String provider,
    @Nullable String model,
    @Nullable String errorType,
    long durationNanos,
    long inputTokens,
    long outputTokens,
    double costUsd) {

  /** Returns the outcome of a call that succeeded. */
  public static AiCallOutcome success(
      @Nullable String provider,
      @Nullable String model,
      long durationNanos,
      long inputTokens,
      long outputTokens,
      double costUsd) {
    return new AiCallOutcome(
        provider, model, null, durationNanos, inputTokens, outputTokens, costUsd);
  }

  /**
   * Returns the outcome of a call that failed with an error of kind {@code errorType}; null stands
   * for {@value AiMetrics#UNKNOWN_ERROR}.
   */
  public static AiCallOutcome failure(
      @Nullable String provider,
      @Nullable String model,
      @Nullable String errorType,
      long durationNanos,
      long inputTokens,
      long outputTokens,
      double costUsd) {
    return new AiCallOutcome(
        provider,
        model,
        errorType == null ? AiMetrics.UNKNOWN_ERROR : errorType,
        durationNanos,
        inputTokens,
        outputTokens,
        costUsd);
  }

  /** Returns whether the call succeeded, that is, has no error type. */
  public boolean succeeded() {
    return errorType == null;
  }
}
