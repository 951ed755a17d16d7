package io.conea.metrics.internal;

import org.jspecify.annotations.Nullable;

/**
 * Reads the parts of an HTTP request target ({@code /path;params?query#fragment}, or the absolute
 * form {@code http://user@host/path?query}) without decoding it and, where nothing needs to be cut,
 * without allocating.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class RequestTargets {

  private RequestTargets() {}

  /**
   * Returns where the path starts: 0 for origin-form, after the authority (and so after any
   * userinfo) for absolute-form targets; {@code target.length()} when an absolute-form target has
   * no path.
   */
  public static int pathStart(String target) {
    if (target.isEmpty() || target.charAt(0) == '/') {
      return 0;
    }
    int schemeEnd = target.indexOf("://");
    if (schemeEnd <= 0) {
      return 0;
    }
    int slash = target.indexOf('/', schemeEnd + 3);
    int end = pathEnd(target, schemeEnd + 3);
    return slash < 0 || slash > end ? end : slash;
  }

  /**
   * Returns where the path that starts at {@code from} ends: at the query, the fragment or the end.
   */
  public static int pathEnd(String target, int from) {
    for (int i = from; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return target.length();
  }

  /** Returns the path of {@code target} ({@code "/"} when it has none), parameters included. */
  public static String path(String target) {
    int start = pathStart(target);
    int end = pathEnd(target, start);
    if (start == 0 && end == target.length()) {
      return target;
    }
    return start >= end ? "/" : target.substring(start, end);
  }

  /** Returns the query of {@code target} without {@code ?} and the fragment, or null. */
  public static @Nullable String query(String target) {
    int query = target.indexOf('?', pathStart(target));
    if (query < 0) {
      return null;
    }
    int fragment = target.indexOf('#', query);
    return target.substring(query + 1, fragment >= 0 ? fragment : target.length());
  }

  /**
   * Removes the {@code ;parameters} of every path segment, such as {@code ;jsessionid=...}: they
   * are no part of the route, and they may carry session ids that must not reach telemetry.
   */
  public static String withoutPathParameters(String path) {
    int semicolon = path.indexOf(';');
    if (semicolon < 0) {
      return path;
    }
    StringBuilder result = new StringBuilder(path.length());
    int start = 0;
    while (semicolon >= 0) {
      result.append(path, start, semicolon);
      start = path.indexOf('/', semicolon);
      if (start < 0) {
        return result.toString();
      }
      semicolon = path.indexOf(';', start);
    }
    return result.append(path, start, path.length()).toString();
  }
}
