package io.conea.ai;

import org.jspecify.annotations.Nullable;

/** The plain {@link AiUsage} of {@link AiUsage#of}. */
record Tokens(long inputTokens, long outputTokens, @Nullable String model) implements AiUsage {}
