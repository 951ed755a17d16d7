/**
 * Jetty 12 server-level instrumentation: counts the requests Jetty answers before any servlet
 * filter sees them, and the client aborts only the connection shows ({@link
 * io.conea.tracing.jetty.ConeaJettyHandler}); drains the server's connections at shutdown ({@link
 * io.conea.tracing.jetty.JettyDrain}).
 */
@NullMarked
package io.conea.tracing.jetty;

import org.jspecify.annotations.NullMarked;
