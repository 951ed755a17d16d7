package io.conea.metrics.internal;

import org.jspecify.annotations.Nullable;

/**
 * The HTTP methods conea records: the nine standard ones as sent (case-sensitive), anything else
 * {@value #OTHER}. The metrics' {@code method} label and the span's {@code http.request.method}
 * both come from here, so they always agree.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class HttpMethods {

  /** The value every other method collapses into. */
  public static final String OTHER = "_OTHER";

  private static final String[] LABELS = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", OTHER
  };

  /** The index of {@value #OTHER}, and so the number of standard methods. */
  public static final int OTHER_INDEX = LABELS.length - 1;

  /** How many indexes there are: the standard methods and {@value #OTHER}. */
  public static final int COUNT = LABELS.length;

  private HttpMethods() {}

  /** Returns the index of {@code method}, {@link #OTHER_INDEX} for any other. Allocates nothing. */
  public static int index(@Nullable String method) {
    if (method == null) {
      return OTHER_INDEX;
    }
    // A string switch compares the cached hash code, then equals: no allocation.
    switch (method) {
      case "GET":
        return 0;
      case "HEAD":
        return 1;
      case "POST":
        return 2;
      case "PUT":
        return 3;
      case "DELETE":
        return 4;
      case "CONNECT":
        return 5;
      case "OPTIONS":
        return 6;
      case "TRACE":
        return 7;
      case "PATCH":
        return 8;
      default:
        return OTHER_INDEX;
    }
  }

  /** Returns the method of an index from {@link #index}. */
  public static String label(int index) {
    return LABELS[index];
  }

  /** Returns {@code method} if it is a standard one, else {@value #OTHER}. Allocates nothing. */
  public static String canonical(@Nullable String method) {
    return LABELS[index(method)];
  }
}
