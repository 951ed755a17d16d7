/**
 * The Jakarta Servlet adapter for the Prometheus scrape: {@link
 * io.conea.metrics.servlet.MetricsServlet}. Kept apart so that services without the Servlet API
 * never load it.
 */
@NullMarked
package io.conea.metrics.servlet;

import org.jspecify.annotations.NullMarked;
