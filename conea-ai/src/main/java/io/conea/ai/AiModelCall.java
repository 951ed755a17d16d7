package io.conea.ai;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that calls an AI model, so that {@link AiModelCallAspect} records the guide's AI
 * metrics for each call (requests by status, processing time, tokens, cost) and, with tracing, a
 * CLIENT span.
 *
 * <pre>{@code
 * @AiModelCall(provider = "openai", model = "gpt-4")
 * ChatReply ask(String prompt) { ... }       // ChatReply implements AiUsage
 * }</pre>
 *
 * <p>On a type, every public method of the type is such a call (a method's own annotation wins).
 *
 * <p>{@link #provider} and {@link #model} may be left empty when they are known only at run time:
 * then they come from a parameter annotated {@link AiProvider} or {@link AiModel}, from {@link
 * AiCall#provider(String)} and {@link AiCall#model(String)} on {@link AiCall#current()} inside the
 * method, or, last, from the result's {@link AiUsage#provider()} and {@link AiUsage#model()}.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface AiModelCall {

  /** The provider, such as {@code openai}; empty when it is given at run time. */
  String provider() default "";

  /** The model requested, such as {@code gpt-4}; empty when it is given at run time. */
  String model() default "";

  /**
   * The GenAI operation, which names the span ({@code chat gpt-4}): {@code chat} (the default),
   * {@code text_completion}, {@code embeddings}, {@code generate_content}, ...
   */
  String operation() default AiCalls.DEFAULT_OPERATION;
}
