/**
 * Structured JSON logs in the monitoring guide's schema: {@link io.conea.logging.ConeaJsonEncoder}
 * is a Logback encoder that writes one JSON object per line for Loki's {@code | json}.
 */
@NullMarked
package io.conea.logging;

import org.jspecify.annotations.NullMarked;
