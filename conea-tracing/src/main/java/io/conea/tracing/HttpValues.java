package io.conea.tracing;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** Normalises, bounds and redacts values read from requests; returns its input when it can. */
final class HttpValues {

  static final String REDACTED = "REDACTED";

  /** Cap on every string read from a request, like the SDK's attribute value length limit. */
  static final int MAX_LENGTH = 1024;

  /** Cap on identifiers copied from headers into the MDC. */
  static final int MAX_ID_LENGTH = 128;

  private static final int MAX_HOST_LENGTH = 255;

  private HttpValues() {}

  static @Nullable String truncate(@Nullable String value, int max) {
    if (value == null || value.length() <= max) {
      return value;
    }
    return value.substring(0, max);
  }

  /** Maps {@code HTTP/1.1} to {@code 1.1} and so on, as network.protocol.version wants it. */
  static @Nullable String protocolVersion(@Nullable String protocol) {
    if (protocol == null) {
      return null;
    }
    switch (protocol) {
      case "HTTP/1.1":
        return "1.1";
      case "HTTP/1.0":
        return "1.0";
      case "HTTP/2":
      case "HTTP/2.0":
        return "2";
      case "HTTP/3":
      case "HTTP/3.0":
        return "3";
      default:
        return null;
    }
  }

  /**
   * Returns a header value that the transport decoded byte for byte as ISO-8859-1 (servlet
   * containers and Netty both do) decoded as UTF-8 instead, when its bytes are valid UTF-8; else
   * the value as it is. Only the first {@code maxBytes} characters are looked at, so that the work
   * is bounded whatever the header's length; a multi-byte sequence cut at that bound is dropped.
   */
  static @Nullable String utf8(@Nullable String value, int maxBytes) {
    if (value == null) {
      return null;
    }
    int length = Math.min(value.length(), maxBytes);
    boolean ascii = true;
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      if (c > 0xff) {
        // Not bytes held as characters: the transport decoded the value already.
        return value;
      }
      if (c >= 0x80) {
        ascii = false;
      }
    }
    if (ascii) {
      return value;
    }
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) value.charAt(i);
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(length);
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      // A value cut at the bound may end inside a sequence: that one is left over, not an error.
      CoderResult result = decoder.decode(in, out, length == value.length());
      if (result.isError()) {
        result.throwException();
      }
    } catch (CharacterCodingException e) {
      return value;
    }
    out.flip();
    return out.toString();
  }

  static boolean isSensitiveParameter(String query, int start, int end) {
    int length = end - start;
    return equalsIgnoreCase(query, start, length, "AWSAccessKeyId")
        || equalsIgnoreCase(query, start, length, "Signature")
        || equalsIgnoreCase(query, start, length, "sig")
        || equalsIgnoreCase(query, start, length, "X-Goog-Signature")
        || (length > 6 && query.regionMatches(true, start, "X-Amz-", 0, 6));
  }

  private static boolean equalsIgnoreCase(String s, int start, int length, String name) {
    return length == name.length() && s.regionMatches(true, start, name, 0, length);
  }

  /**
   * Replaces the values of credential-bearing query parameters (signed URL parameters of AWS,
   * Google Cloud and Azure) with {@value #REDACTED}, then truncates.
   */
  static @Nullable String redactQuery(@Nullable String query) {
    if (query == null) {
      return null;
    }
    StringBuilder redacted = null;
    int length = query.length();
    int copied = 0;
    int start = 0;
    while (start < length) {
      int end = query.indexOf('&', start);
      if (end < 0) {
        end = length;
      }
      int equals = query.indexOf('=', start);
      if (equals >= 0 && equals < end && isSensitiveParameter(query, start, equals)) {
        if (redacted == null) {
          redacted = new StringBuilder(Math.min(length, MAX_LENGTH) + REDACTED.length());
        }
        redacted.append(query, copied, equals + 1).append(REDACTED);
        copied = end;
      }
      start = end + 1;
    }
    if (redacted == null) {
      return truncate(query, MAX_LENGTH);
    }
    redacted.append(query, copied, length);
    return truncate(redacted.toString(), MAX_LENGTH);
  }

  /** Returns the host of a Host header value, without userinfo or port, or null. */
  static @Nullable String hostName(@Nullable String host) {
    if (host == null) {
      return null;
    }
    int start = host.lastIndexOf('@') + 1;
    int end = hostEnd(host, start);
    if (end <= start) {
      return null;
    }
    if (host.charAt(start) == '[') {
      // IPv6 literal: the attribute holds the address without brackets.
      return end - start > 2 ? truncate(host.substring(start + 1, end - 1), MAX_HOST_LENGTH) : null;
    }
    return truncate(
        start == 0 && end == host.length() ? host : host.substring(start, end), MAX_HOST_LENGTH);
  }

  /** Returns the port of a Host header value, or -1 when it has none or a malformed one. */
  static int hostPort(@Nullable String host) {
    if (host == null) {
      return -1;
    }
    int start = host.lastIndexOf('@') + 1;
    int end = hostEnd(host, start);
    if (end >= host.length() || host.charAt(end) != ':') {
      return -1;
    }
    int port = 0;
    int digits = 0;
    for (int i = end + 1; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c < '0' || c > '9' || ++digits > 5) {
        return -1;
      }
      port = port * 10 + (c - '0');
    }
    return digits == 0 || port > 65535 ? -1 : port;
  }

  private static int hostEnd(String host, int start) {
    if (start < host.length() && host.charAt(start) == '[') {
      int close = host.indexOf(']', start);
      return close < 0 ? -1 : close + 1;
    }
    int colon = host.indexOf(':', start);
    return colon < 0 ? host.length() : colon;
  }

  static int defaultPort(@Nullable String scheme) {
    return "https".equals(scheme) ? 443 : "http".equals(scheme) ? 80 : -1;
  }

  /** Returns the first address of an X-Forwarded-For value, trimmed, or null. */
  static @Nullable String firstForwardedFor(@Nullable String forwardedFor) {
    if (forwardedFor == null) {
      return null;
    }
    int comma = forwardedFor.indexOf(',');
    String first = (comma < 0 ? forwardedFor : forwardedFor.substring(0, comma)).trim();
    return first.isEmpty() ? null : truncate(first, MAX_HOST_LENGTH);
  }

  /**
   * Returns whether a percent-encoded header (baggage, Jaeger's {@code uber-trace-id}) is plain
   * ASCII with valid percent escapes; others are dropped before the propagator sees them, because
   * the baggage parser logs a warning per malformed member, which a hostile client could use to
   * flood the log, and older Jaeger propagators throw.
   */
  static boolean isWellFormedEncoded(String baggage) {
    int length = baggage.length();
    if (length > 8192) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = baggage.charAt(i);
      if (c == '%') {
        if (i + 2 >= length || !isHex(baggage.charAt(i + 1)) || !isHex(baggage.charAt(i + 2))) {
          return false;
        }
      } else if ((c < 0x20 && c != '\t') || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
