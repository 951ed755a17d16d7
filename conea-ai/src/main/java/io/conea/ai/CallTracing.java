package io.conea.ai;

import org.jspecify.annotations.Nullable;

/**
 * Starts the span of an AI call. Only {@link OpenTelemetryCallTracing} touches OpenTelemetry, and
 * it is loaded only when an {@code OpenTelemetry} is given, so opentelemetry-api stays optional.
 */
interface CallTracing {

  /** No spans. */
  CallTracing NONE = (operation, provider, model) -> CallSpan.NONE;

  CallSpan start(String operation, @Nullable String provider, @Nullable String model);

  /**
   * One call's span. {@link #enter} and {@link #exit} pair up on the thread that started the call;
   * the rest may come from any thread, and {@link #end} comes once.
   */
  interface CallSpan {

    CallSpan NONE =
        new CallSpan() {
          @Override
          public void enter() {}

          @Override
          public void exit() {}

          @Override
          public void provider(String provider) {}

          @Override
          public void model(String model) {}

          @Override
          public void end(
              @Nullable String responseModel,
              long inputTokens,
              long outputTokens,
              double costUsd,
              @Nullable Throwable error,
              @Nullable String errorType) {}
        };

    /** Makes the span current on this thread, so that spans started inside are its children. */
    void enter();

    /** Undoes {@link #enter}. */
    void exit();

    void provider(String provider);

    void model(String model);

    /**
     * Ends the span. Token counts are negative when no usage is known, and the cost is NaN when the
     * model has no price; {@code errorType} is non-null for a failed call.
     */
    void end(
        @Nullable String responseModel,
        long inputTokens,
        long outputTokens,
        double costUsd,
        @Nullable Throwable error,
        @Nullable String errorType);
  }
}
