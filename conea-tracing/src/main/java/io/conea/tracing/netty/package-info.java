/** The Netty adapter: {@link io.conea.tracing.netty.ConeaTracingHandler}. */
@NullMarked
package io.conea.tracing.netty;

import org.jspecify.annotations.NullMarked;
