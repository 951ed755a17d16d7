/**
 * Jetty 12 server-level instrumentation: counts the requests Jetty answers before any servlet
 * filter sees them, and the client aborts only the connection shows.
 */
@NullMarked
package io.conea.tracing.jetty;

import org.jspecify.annotations.NullMarked;
