package io.conea.metrics;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/** Serves {@link PrometheusMetrics#scrape} through the JDK's HTTP server. */
final class ScrapeHttpHandler implements HttpHandler {

  private final PrometheusMetrics metrics;

  private ScrapeHttpHandler(PrometheusMetrics metrics) {
    this.metrics = metrics;
  }

  /** Declared as {@link HttpHandler} so that callers link against the JDK type only. */
  static HttpHandler create(PrometheusMetrics metrics) {
    return new ScrapeHttpHandler(metrics);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      boolean head = "HEAD".equals(method);
      if (!head && !"GET".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      Headers request = exchange.getRequestHeaders();
      Scrape scrape =
          metrics.scrape(
              joined(request.get("Accept")),
              joined(request.get("Accept-Encoding")),
              exchange.getRequestURI().getRawQuery());
      Headers response = exchange.getResponseHeaders();
      response.set("Content-Type", scrape.contentType());
      if (scrape.contentEncoding() != null) {
        response.set("Content-Encoding", scrape.contentEncoding());
      }
      if (head) {
        // -1: no body follows; the JDK server then leaves Content-Length out.
        exchange.sendResponseHeaders(scrape.status(), -1);
        return;
      }
      exchange.sendResponseHeaders(scrape.status(), scrape.contentLength());
      try (OutputStream body = exchange.getResponseBody()) {
        scrape.writeTo(body);
      }
    }
  }

  private static String joined(List<String> values) {
    return values == null || values.isEmpty() ? null : String.join(",", values);
  }
}
