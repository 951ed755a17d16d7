package io.conea.ai;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the parameter of an {@link AiModelCall} method that holds the model requested; its {@code
 * toString()} overrides {@link AiModelCall#model()}, unless it is null.
 *
 * <pre>{@code
 * @AiModelCall(provider = "openai")
 * Reply ask(@AiModel String model, String prompt) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface AiModel {}
