package io.conea.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * One response to a Prometheus scrape, independent of the HTTP server that sends it: status, {@code
 * Content-Type}, optional {@code Content-Encoding}, and body.
 *
 * <p>Obtained from {@link PrometheusMetrics#scrape(String, String)}; an adapter copies the three
 * headers and the body into its own response, as {@link PrometheusMetrics#httpHandler()} does.
 */
public final class Scrape {

  private final int status;
  private final String contentType;
  private final @Nullable String contentEncoding;
  private final byte[] body;

  Scrape(int status, String contentType, @Nullable String contentEncoding, byte[] body) {
    this.status = status;
    this.contentType = contentType;
    this.contentEncoding = contentEncoding;
    this.body = body;
  }

  static Scrape error(int status, String message) {
    return new Scrape(
        status, "text/plain; charset=utf-8", null, message.getBytes(StandardCharsets.UTF_8));
  }

  /** Returns the HTTP status: 200, 400 for invalid query parameters, 500 if the scrape failed. */
  public int status() {
    return status;
  }

  /**
   * Returns the {@code Content-Type}: Prometheus text ({@code text/plain; version=0.0.4}),
   * OpenMetrics ({@code application/openmetrics-text; version=1.0.0}) or Prometheus protobuf.
   */
  public String contentType() {
    return contentType;
  }

  /** Returns {@code gzip} when the body is compressed, else null. */
  public @Nullable String contentEncoding() {
    return contentEncoding;
  }

  /** Returns the length of the body in bytes, for {@code Content-Length}. */
  public int contentLength() {
    return body.length;
  }

  /** Returns a copy of the body, compressed if {@link #contentEncoding()} says so. */
  public byte[] body() {
    return body.clone();
  }

  /** Writes the body to {@code out} without copying it; does not close {@code out}. */
  public void writeTo(OutputStream out) throws IOException {
    out.write(body);
  }
}
