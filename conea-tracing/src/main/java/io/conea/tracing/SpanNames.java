package io.conea.tracing;

import io.conea.metrics.internal.HttpMethods;
import io.conea.metrics.internal.Limits;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Span names ({@code {METHOD} {route}}) built once per method and route, so that naming a span
 * allocates nothing at steady state. Bounded: past {@link #MAX_ROUTES} routes, and for routes
 * longer than {@link #MAX_ROUTE_LENGTH}, names are built per call.
 */
final class SpanNames {

  /** More routes than a service declares; a resolver returning more is misused. */
  static final int MAX_ROUTES = 1024;

  /** Longer routes are no endpoint label value either. */
  static final int MAX_ROUTE_LENGTH = Limits.MAX_LABEL_VALUE_LENGTH;

  /**
   * The canonical methods by {@link HttpMethods#index}, and {@code HTTP} for any other: the name
   * the semantic conventions give an unknown one.
   */
  private static final String[] PREFIXES = prefixes();

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
    return HttpMethods.index(method);
  }

  private static String[] prefixes() {
    String[] prefixes = new String[HttpMethods.COUNT];
    for (int i = 0; i < prefixes.length; i++) {
      prefixes[i] = i == HttpMethods.OTHER_INDEX ? "HTTP" : HttpMethods.label(i);
    }
    return prefixes;
  }
}
