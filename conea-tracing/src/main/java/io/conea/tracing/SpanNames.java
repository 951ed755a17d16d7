package io.conea.tracing;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Span names ({@code {METHOD} {route}}) built once per method and route, so that naming a span
 * allocates nothing at steady state. Bounded: past {@link #MAX_ROUTES} routes, and for routes
 * longer than {@link #MAX_ROUTE_LENGTH}, names are built per call.
 */
final class SpanNames {

  /** More routes than a service declares; a resolver returning more is misused. */
  static final int MAX_ROUTES = 1024;

  /** Longer routes are no endpoint label value either (conea-metrics keeps 256 characters). */
  static final int MAX_ROUTE_LENGTH = 256;

  /**
   * The canonical methods, then {@code HTTP}: the name semantic conventions give an unknown one.
   */
  private static final String[] PREFIXES = {
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "HTTP"
  };

  private static final int OTHER = PREFIXES.length - 1;

  private final ConcurrentHashMap<String, String[]> byRoute = new ConcurrentHashMap<>();

  /**
   * Returns the span name of a canonical method ({@code GET} ... or {@code _OTHER}) and a route, or
   * of the method alone when the route is null.
   */
  String get(String method, String route) {
    int index = index(method);
    if (route == null) {
      return PREFIXES[index];
    }
    String[] names = byRoute.get(route);
    if (names == null) {
      if (route.length() > MAX_ROUTE_LENGTH || byRoute.size() >= MAX_ROUTES) {
        return PREFIXES[index] + ' ' + route;
      }
      names = byRoute.computeIfAbsent(route, ignored -> new String[PREFIXES.length]);
    }
    String name = names[index];
    if (name == null) {
      // Racing threads may each build the name once; a String is safe to publish this way.
      name = PREFIXES[index] + ' ' + route;
      names[index] = name;
    }
    return name;
  }

  private static int index(String method) {
    if (method == null) {
      return OTHER;
    }
    // A string switch compares the cached hash code, then equals: no allocation.
    switch (method) {
      case "GET":
        return 0;
      case "POST":
        return 1;
      case "PUT":
        return 2;
      case "DELETE":
        return 3;
      case "PATCH":
        return 4;
      case "HEAD":
        return 5;
      case "OPTIONS":
        return 6;
      case "CONNECT":
        return 7;
      case "TRACE":
        return 8;
      default:
        return OTHER;
    }
  }
}
