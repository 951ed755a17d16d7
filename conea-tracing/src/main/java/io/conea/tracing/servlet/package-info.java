/** The jakarta servlet adapter: {@link io.conea.tracing.servlet.ConeaTracingFilter}. */
package io.conea.tracing.servlet;
