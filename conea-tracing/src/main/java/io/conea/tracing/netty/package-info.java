/** The Netty adapter: {@link io.conea.tracing.netty.ConeaTracingHandler}. */
package io.conea.tracing.netty;
