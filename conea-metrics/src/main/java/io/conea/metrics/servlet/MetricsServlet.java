package io.conea.metrics.servlet;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.Scrape;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Enumeration;
import org.jspecify.annotations.Nullable;

/**
 * Serves the Prometheus scrape of a {@link PrometheusMetrics} on GET (and HEAD), with the same
 * content negotiation and compression as {@link PrometheusMetrics#scrape(String, String)}.
 *
 * <pre>{@code
 * ServletContextHandler context = new ServletContextHandler();
 * context.addServlet(new ServletHolder(MetricsServlet.create(prometheus)), "/metrics");
 * }</pre>
 */
public final class MetricsServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  private final transient PrometheusMetrics metrics;

  private MetricsServlet(PrometheusMetrics metrics) {
    this.metrics = metrics;
  }

  /** Returns a servlet serving the scrape of {@code metrics}. */
  public static MetricsServlet create(PrometheusMetrics metrics) {
    return new MetricsServlet(requireNonNull(metrics, "metrics"));
  }

  /** Writes the scrape; the servlet container's HEAD support sends the same headers, no body. */
  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Scrape scrape =
        metrics.scrape(
            joined(request.getHeaders("Accept")),
            joined(request.getHeaders("Accept-Encoding")),
            request.getQueryString());
    response.setStatus(scrape.status());
    response.setContentType(scrape.contentType());
    if (scrape.contentEncoding() != null) {
      response.setHeader("Content-Encoding", scrape.contentEncoding());
    }
    response.setContentLength(scrape.contentLength());
    scrape.writeTo(response.getOutputStream());
  }

  private static @Nullable String joined(@Nullable Enumeration<String> values) {
    if (values == null || !values.hasMoreElements()) {
      return null;
    }
    StringBuilder joined = new StringBuilder(values.nextElement());
    while (values.hasMoreElements()) {
      joined.append(',').append(values.nextElement());
    }
    return joined.toString();
  }
}
