/**
 * OpenTelemetry setup and transport-neutral HTTP server instrumentation.
 *
 * <p>{@link io.conea.tracing.ConeaTracing} builds the OpenTelemetry SDK with the monitoring guide's
 * defaults (parent-based 10% sampling, OTLP export, W3C and Jaeger propagation). {@link
 * io.conea.tracing.HttpServerTracing} instruments HTTP requests: one SERVER span, the guide's HTTP
 * metrics through conea-metrics, and log correlation through the SLF4J MDC. The servlet filter in
 * {@code io.conea.tracing.servlet} and the Netty handler in {@code io.conea.tracing.netty} are thin
 * adapters over it.
 */
@NullMarked
package io.conea.tracing;

import org.jspecify.annotations.NullMarked;
