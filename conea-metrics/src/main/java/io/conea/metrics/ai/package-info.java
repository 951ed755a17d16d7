/**
 * AI model calls recorded in the monitoring guide's AI metrics, with cost and GenAI spans.
 *
 * <p>Annotate the methods that call models with {@link io.conea.metrics.ai.AiModelCall} and apply
 * {@link io.conea.metrics.ai.AiModelCallAspect} through Spring AOP or AspectJ weaving, or call
 * {@link io.conea.metrics.ai.AiCalls} directly. Results report their tokens by implementing {@link
 * io.conea.metrics.ai.AiUsage}; {@link io.conea.metrics.ai.AiPricing} turns tokens into US dollars.
 *
 * <p>AspectJ (aspectjweaver or aspectjrt) is needed only for the aspect, and opentelemetry-api only
 * for spans; both are optional dependencies of conea-metrics.
 */
package io.conea.metrics.ai;
