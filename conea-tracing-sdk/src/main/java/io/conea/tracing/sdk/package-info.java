/**
 * The OpenTelemetry SDK with the monitoring guide's defaults ({@link
 * io.conea.tracing.sdk.ConeaTracing}): the only conea package that depends on the SDK.
 */
@NullMarked
package io.conea.tracing.sdk;

import org.jspecify.annotations.NullMarked;
