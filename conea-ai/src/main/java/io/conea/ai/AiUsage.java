package io.conea.ai;

import org.jspecify.annotations.Nullable;

/**
 * The tokens one model call used, as reported by the provider.
 *
 * <p>Let the result type of an {@link AiModelCall} method implement it and the call's tokens and
 * cost are recorded from the result:
 *
 * <pre>{@code
 * record Reply(String text, long inputTokens, long outputTokens) implements AiUsage {}
 * }</pre>
 *
 * <p>For a result type that cannot implement it (a provider SDK's response), register a function
 * with {@link AiCalls.Builder#usageExtractor}; for streaming, report the usage on the call itself
 * with {@link AiCall#usage(long, long)}.
 */
public interface AiUsage {

  /** Returns the tokens sent to the model (the prompt). */
  long inputTokens();

  /** Returns the tokens the model produced (the completion). */
  long outputTokens();

  /**
   * Returns the model that actually answered, such as {@code gpt-4-0613} for a request to {@code
   * gpt-4}, or null if unknown (the default). It names the {@code model} label only when the call
   * itself named no model, and its price is used when the pricing table has one.
   */
  default @Nullable String model() {
    return null;
  }

  /**
   * Returns the provider that answered, or null if unknown (the default). It names the {@code
   * provider} label only when the call itself named no provider.
   */
  default @Nullable String provider() {
    return null;
  }

  /** Returns a usage of {@code inputTokens} and {@code outputTokens}, with no model or provider. */
  static AiUsage of(long inputTokens, long outputTokens) {
    return new Tokens(inputTokens, outputTokens, null);
  }

  /** Returns a usage of {@code inputTokens} and {@code outputTokens} by {@code model}. */
  static AiUsage of(long inputTokens, long outputTokens, @Nullable String model) {
    return new Tokens(inputTokens, outputTokens, model);
  }
}
