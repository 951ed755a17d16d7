/** conea's Spring WebFlux instrumentation: a thin {@code WebFilter} over conea-tracing. */
@NullMarked
package io.conea.spring.boot.webflux;

import org.jspecify.annotations.NullMarked;
