/**
 * Tomcat's part of counting every request: a valve that counts what Tomcat answers before the
 * servlet filter. Needs tomcat-embed-core 10.1 or newer (an optional dependency).
 */
@NullMarked
package io.conea.tracing.tomcat;

import org.jspecify.annotations.NullMarked;
