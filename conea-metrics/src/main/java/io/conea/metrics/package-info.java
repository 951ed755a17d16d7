/**
 * The monitoring guide's metrics on Micrometer, and their Prometheus exposition.
 *
 * <p>{@link io.conea.metrics.ConeaMetrics} registers the guide's meters ({@code
 * http_requests_total}, {@code http_request_duration_seconds}, the AI, job, user activity and
 * connection meters) on any {@link io.micrometer.core.instrument.MeterRegistry}, with bounded label
 * values and allocation-free recording. {@link io.conea.metrics.PrometheusMetrics} owns a
 * Prometheus registry and serves its scrape through a servlet, the JDK HTTP server, or any other
 * transport.
 */
@NullMarked
package io.conea.metrics;

import org.jspecify.annotations.NullMarked;
