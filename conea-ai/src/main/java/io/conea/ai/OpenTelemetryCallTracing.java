package io.conea.ai;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import org.jspecify.annotations.Nullable;

/**
 * CLIENT spans named and described by the OpenTelemetry GenAI semantic conventions: {@code
 * {gen_ai.operation.name} {gen_ai.request.model}}, with the provider, requested and answering
 * model, token usage, {@code error.type} on failure, and the cost as {@value #COST_NAME}.
 */
final class OpenTelemetryCallTracing implements CallTracing {

  static final String SCOPE_NAME = "io.conea.ai";
  static final String COST_NAME = "conea.ai.cost_usd";

  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL =
      AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<Double> COST = AttributeKey.doubleKey(COST_NAME);

  private final Tracer tracer;

  OpenTelemetryCallTracing(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer(SCOPE_NAME);
  }

  @Override
  public CallSpan start(String operation, @Nullable String provider, @Nullable String model) {
    SpanBuilder builder =
        tracer
            .spanBuilder(name(operation, model))
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(OPERATION, operation);
    if (provider != null) {
      builder.setAttribute(PROVIDER, provider);
    }
    if (model != null) {
      builder.setAttribute(REQUEST_MODEL, model);
    }
    return new OpenTelemetrySpan(builder.startSpan(), operation);
  }

  private static String name(String operation, @Nullable String model) {
    return model == null ? operation : operation + ' ' + model;
  }

  private static final class OpenTelemetrySpan implements CallSpan {

    private final Span span;
    private final String operation;
    private @Nullable Scope scope;

    OpenTelemetrySpan(Span span, String operation) {
      this.span = span;
      this.operation = operation;
    }

    @Override
    public void enter() {
      scope = span.makeCurrent();
    }

    @Override
    public void exit() {
      Scope current = scope;
      if (current != null) {
        scope = null;
        current.close();
      }
    }

    @Override
    public void provider(String provider) {
      span.setAttribute(PROVIDER, provider);
    }

    @Override
    public void model(String model) {
      span.setAttribute(REQUEST_MODEL, model);
      span.updateName(name(operation, model));
    }

    @Override
    public void end(
        @Nullable String responseModel,
        long inputTokens,
        long outputTokens,
        double costUsd,
        @Nullable Throwable error,
        @Nullable String errorType) {
      if (responseModel != null) {
        span.setAttribute(RESPONSE_MODEL, responseModel);
      }
      if (inputTokens >= 0) {
        span.setAttribute(INPUT_TOKENS, inputTokens);
      }
      if (outputTokens >= 0) {
        span.setAttribute(OUTPUT_TOKENS, outputTokens);
      }
      if (!Double.isNaN(costUsd)) {
        span.setAttribute(COST, costUsd);
      }
      if (errorType != null) {
        // The conventions want the fully qualified class name; the metric label has the short one.
        span.setAttribute(ERROR_TYPE, error != null ? error.getClass().getName() : errorType);
        span.setStatus(StatusCode.ERROR);
        if (error != null) {
          span.recordException(error);
        }
      }
      span.end();
    }
  }
}
