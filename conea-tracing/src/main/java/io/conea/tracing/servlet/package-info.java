/** The jakarta servlet adapter: {@link io.conea.tracing.servlet.ConeaTracingFilter}. */
@NullMarked
package io.conea.tracing.servlet;

import org.jspecify.annotations.NullMarked;
