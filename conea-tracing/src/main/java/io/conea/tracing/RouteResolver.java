package io.conea.tracing;

import org.jspecify.annotations.Nullable;

/**
 * Maps a request to its route template, the bounded {@code endpoint} label of the HTTP metrics and
 * the {@code http.route} of its span.
 *
 * <p>{@link RouteTemplates} matches templates the application registers. Implementations must be
 * thread-safe, cheap and return one of a bounded set of values; an exception is caught and counted
 * as "no route".
 */
@FunctionalInterface
public interface RouteResolver {

  /** A resolver that knows no route, leaving every request to conea-metrics' normalisation. */
  RouteResolver NONE = (method, path) -> null;

  /**
   * Returns the route template of a request, such as {@code /api/v1/users/{id}}, or null when it is
   * unknown.
   *
   * @param method the canonical request method ({@code GET}, ... or {@code _OTHER})
   * @param path the raw request path within the application, without query string and without
   *     segment parameters ({@code ;jsessionid=...})
   */
  @Nullable String resolve(String method, String path);
}
