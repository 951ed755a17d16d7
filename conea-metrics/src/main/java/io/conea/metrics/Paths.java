package io.conea.metrics;

import io.conea.metrics.internal.RequestTargets;

/**
 * Turns a raw request path into an endpoint value when no route template is known: the query
 * string, fragment and matrix parameters are dropped, repeated and trailing slashes collapse, and
 * segments that look like identifiers become {@value #ID}.
 *
 * <p>A segment is an identifier when it holds a digit and no letter ({@code 42}, {@code
 * 2025-05-26}), is a UUID, is 16 or more hex digits, or is a token of 16 or more letters, digits,
 * {@code -} and {@code _} that mixes letters and digits (API keys, base64url ids).
 */
final class Paths {

  static final String ID = "{id}";

  private static final int LONG_TOKEN = 16;
  private static final int UUID_LENGTH = 36;

  private Paths() {}

  /**
   * Whether {@link #normalize} would return {@code path} unchanged; checked first so that the
   * common case, a path that is already clean, needs no new string.
   */
  static boolean isNormal(String path) {
    int n = path.length();
    if (n == 0 || RequestTargets.pathStart(path) != 0 || (n > 1 && path.charAt(n - 1) == '/')) {
      return false;
    }
    int segmentStart = 0;
    for (int i = 0; i <= n; i++) {
      char c = i < n ? path.charAt(i) : '/';
      if (c == '?' || c == '#' || c == ';') {
        return false;
      }
      if (c == '/') {
        if (i > segmentStart) {
          if (isId(path, segmentStart, i)) {
            return false;
          }
        } else if (i > 0 && i < n) {
          return false;
        }
        segmentStart = i + 1;
      }
    }
    return true;
  }

  static String normalize(String path) {
    int start = RequestTargets.pathStart(path);
    int end = RequestTargets.pathEnd(path, start);
    StringBuilder out = new StringBuilder(end - start + 4);
    int i = start;
    while (i < end) {
      if (path.charAt(i) == '/') {
        if (out.length() == 0 || out.charAt(out.length() - 1) != '/') {
          out.append('/');
        }
        i++;
        continue;
      }
      int segmentEnd = i;
      int contentEnd = -1;
      while (segmentEnd < end && path.charAt(segmentEnd) != '/') {
        if (contentEnd < 0 && path.charAt(segmentEnd) == ';') {
          contentEnd = segmentEnd;
        }
        segmentEnd++;
      }
      if (contentEnd < 0) {
        contentEnd = segmentEnd;
      }
      if (contentEnd > i) {
        if (isId(path, i, contentEnd)) {
          out.append(ID);
        } else {
          out.append(path, i, contentEnd);
        }
      }
      i = segmentEnd;
    }
    int length = out.length();
    if (length > 1 && out.charAt(length - 1) == '/') {
      out.setLength(length - 1);
    }
    return out.length() == 0 ? "/" : out.toString();
  }

  static boolean isId(CharSequence s, int from, int to) {
    int length = to - from;
    int digits = 0;
    int letters = 0;
    int hex = 0;
    boolean tokenChars = true;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        digits++;
        hex++;
      } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
        letters++;
        hex++;
      } else if ((c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z')) {
        letters++;
      } else if (c != '-' && c != '_') {
        tokenChars = false;
        if (Character.isLetter(c)) {
          letters++;
        }
      }
    }
    if (digits > 0 && letters == 0) {
      return true;
    }
    if (length >= LONG_TOKEN && hex == length) {
      return true;
    }
    if (length == UUID_LENGTH && isUuid(s, from)) {
      return true;
    }
    return length >= LONG_TOKEN && tokenChars && digits > 0 && letters > 0;
  }

  private static boolean isUuid(CharSequence s, int from) {
    for (int i = 0; i < UUID_LENGTH; i++) {
      char c = s.charAt(from + i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : Character.digit(c, 16) < 0) {
        return false;
      }
    }
    return true;
  }
}
