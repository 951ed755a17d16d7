package io.conea.tracing;

import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Collections;
import org.jspecify.annotations.Nullable;

/**
 * Reads what the instrumentation needs from one transport's request type; adapters implement it as
 * a stateless constant.
 *
 * <p>The instrumentation catches whatever an accessor throws and truncates whatever it returns, so
 * accessors return the raw values the transport holds. Header names are matched without regard to
 * case.
 *
 * @param <R> the transport's request (or connection) type
 */
public interface HttpServerRequestAccessor<R> extends TextMapGetter<R> {

  /** Returns the request method as received, such as {@code GET}. */
  String method(R request);

  /**
   * Returns the raw request path within the application, not decoded and without the query string;
   * the instrumentation removes segment parameters such as {@code ;jsessionid=...} itself.
   */
  String path(R request);

  /** Returns the raw query string without the leading {@code ?}, or null when there is none. */
  @Nullable String query(R request);

  /** Returns the URI scheme the request arrived with: {@code http} or {@code https}. */
  String scheme(R request);

  /** Returns the protocol as received, such as {@code HTTP/1.1}, or null when unknown. */
  @Nullable String protocol(R request);

  /** Returns the address of the peer that opened the connection, or null when unknown. */
  @Nullable String peerAddress(R request);

  /**
   * Returns the names of the request's headers, for propagators that look for a prefix (Jaeger's
   * {@code uberctx-} baggage); none by default. Declared here, with a body, because {@link
   * TextMapGetter#keys} has none in the OpenTelemetry versions conea supports.
   */
  // Deprecated in newer OpenTelemetry, abstract in the older ones conea supports.
  @SuppressWarnings("deprecation")
  @Override
  default Iterable<String> keys(R request) {
    return Collections.emptyList();
  }
}
