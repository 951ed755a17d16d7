/**
 * AI model calls recorded in the monitoring guide's AI metrics, with cost and GenAI spans. The
 * meters are conea-metrics' {@link io.conea.metrics.AiMetrics}; this package times the calls, reads
 * their usage, prices it and traces them.
 *
 * <p>Annotate the methods that call models with {@link io.conea.ai.AiModelCall} and apply {@link
 * io.conea.ai.AiModelCallAspect} through Spring AOP or AspectJ weaving, or call {@link
 * io.conea.ai.AiCalls} directly. Results report their tokens by implementing {@link
 * io.conea.ai.AiUsage}; {@link io.conea.ai.AiPricing} turns tokens into US dollars.
 *
 * <p>AspectJ (aspectjweaver or aspectjrt) is needed only for the aspect, and opentelemetry-api only
 * for spans; both are optional dependencies of conea-ai.
 */
@NullMarked
package io.conea.ai;

import org.jspecify.annotations.NullMarked;
