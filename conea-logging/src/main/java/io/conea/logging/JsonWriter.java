package io.conea.logging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes one JSON line as UTF-8 into a reusable buffer; owns escaping, commas and the line budget.
 *
 * <p>The budget is a limit ({@code end}) that the content plus one closing brace per open object
 * never passes, so the line can always be closed as valid JSON; the caller keeps back whatever it
 * writes after the closing braces (the newline, a truncation flag). Before a name is written,
 * {@link #name} checks that the name and the smallest value that can follow it fit; a string value
 * that then runs out of room is cut and ends with {@link #MARKER}. Once anything had to be left out
 * the writer is in overflow and accepts no more names.
 *
 * <p>Strings are escaped so that the line is valid JSON for any input: quote, backslash and every
 * character below U+0020 are escaped, and so are U+2028 and U+2029 (JavaScript line terminators); a
 * lone surrogate becomes U+FFFD. Everything else is written as raw UTF-8. A cut never falls inside
 * an escape sequence or between the two halves of a surrogate pair.
 */
final class JsonWriter {

  /** Appended where a string was cut, by its character cap or by the line budget. */
  static final String MARKER = "\u2026[truncated]";

  private static final byte[] MARKER_BYTES = MARKER.getBytes(StandardCharsets.UTF_8);

  /** Room a name must leave for its value: at worst a string holding only the marker. */
  static final int MIN_VALUE_BYTES = MARKER_BYTES.length + 2;

  /** Longest number text written as a JSON number; longer ones are written as strings. */
  static final int MAX_NUMBER_CHARS = 64;

  /** Room reserved for any long written with {@link #longValue}. */
  static final int LONG_BYTES = 20;

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] LONG_MIN_DIGITS =
      "9223372036854775808".getBytes(StandardCharsets.US_ASCII);

  /** Bytes needed for each ASCII character inside a string: 1, 2 (short escape) or 6. */
  private static final byte[] ASCII_LENGTH = new byte[128];

  /** The short escape letter for an ASCII character, or 0 when it has none. */
  private static final byte[] SHORT_ESCAPE = new byte[128];

  static {
    Arrays.fill(ASCII_LENGTH, (byte) 1);
    for (int c = 0; c < 0x20; c++) {
      ASCII_LENGTH[c] = 6;
    }
    SHORT_ESCAPE['"'] = '"';
    SHORT_ESCAPE['\\'] = '\\';
    SHORT_ESCAPE['\n'] = 'n';
    SHORT_ESCAPE['\r'] = 'r';
    SHORT_ESCAPE['\t'] = 't';
    SHORT_ESCAPE['\b'] = 'b';
    SHORT_ESCAPE['\f'] = 'f';
    for (int c = 0; c < 128; c++) {
      if (SHORT_ESCAPE[c] != 0) {
        ASCII_LENGTH[c] = 2;
      }
    }
  }

  private final byte[] buf;
  private int pos;
  private int end;
  private int depth;
  private boolean comma;
  private boolean overflow;

  // State of the string being written, so that it can be fed in pieces.
  private int stringMaxChars;
  private int stringChars;
  private int stringSafePos;
  private boolean stringCut;

  JsonWriter(int capacity) {
    this.buf = new byte[capacity];
  }

  /** Starts a new line whose content and closing braces must stay within {@code end} bytes. */
  void reset(int end) {
    this.pos = 0;
    this.end = end;
    this.depth = 0;
    this.comma = false;
    this.overflow = false;
    this.stringCut = false;
  }

  /** Whether something was left out because the line budget ran out. */
  boolean overflowed() {
    return overflow;
  }

  int position() {
    return pos;
  }

  boolean commaPending() {
    return comma;
  }

  /** Takes back everything written since {@code position}, restoring the comma state then. */
  void rewind(int position, boolean commaPending) {
    this.pos = position;
    this.comma = commaPending;
  }

  /** Whether {@code length} bytes at {@code from} equal those at {@code other}. */
  boolean regionEquals(int from, int other, int length) {
    return Arrays.equals(buf, from, from + length, buf, other, other + length);
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  /** Opens an object; its closing brace is counted against the budget from now on. */
  void beginObject() {
    buf[pos++] = '{';
    depth++;
    comma = false;
  }

  /** Closes an object; its room was kept back, so it always fits. */
  void endObject() {
    buf[pos++] = '}';
    depth--;
    comma = true;
  }

  /** Ends the line; the caller keeps its byte back from the budget. */
  void newline() {
    buf[pos++] = '\n';
  }

  /**
   * Writes a pre-encoded name ({@code "name":}) if it and {@code valueBytes} more fit; otherwise
   * enters overflow and returns false.
   */
  boolean name(byte[] encodedName, int valueBytes) {
    if (overflow) {
      return false;
    }
    if (pos + (comma ? 1 : 0) + encodedName.length + valueBytes + depth > end) {
      overflow = true;
      return false;
    }
    writeName(encodedName);
    return true;
  }

  /** Writes a pre-encoded name into room the caller kept back, ignoring the budget. */
  void reservedName(byte[] encodedName) {
    writeName(encodedName);
  }

  private void writeName(byte[] encodedName) {
    if (comma) {
      buf[pos++] = ',';
    }
    System.arraycopy(encodedName, 0, buf, pos, encodedName.length);
    pos += encodedName.length;
    comma = false;
  }

  /**
   * Writes a name given as text, cut to {@code maxChars}, if it and {@code valueBytes} more fit;
   * otherwise enters overflow and returns false. Never cuts the name for lack of room, so that two
   * distinct names cannot end up equal.
   */
  boolean name(CharSequence name, int maxChars, int valueBytes) {
    if (overflow) {
      return false;
    }
    int needed = (comma ? 1 : 0) + 3 + encodedLength(name, maxChars) + valueBytes + depth;
    if (pos + needed > end) {
      overflow = true;
      return false;
    }
    if (comma) {
      buf[pos++] = ',';
    }
    beginString(maxChars);
    append(name);
    endString();
    buf[pos++] = ':';
    comma = false;
    return true;
  }

  /** Writes a string value cut to {@code maxChars} and to the line budget. */
  void string(CharSequence value, int maxChars) {
    beginString(maxChars);
    append(value);
    endString();
  }

  /** Starts a string value that is then fed with {@code append} calls. */
  void beginString(int maxChars) {
    buf[pos++] = '"';
    stringMaxChars = maxChars;
    stringChars = 0;
    stringSafePos = pos;
    stringCut = false;
  }

  /** Whether the current string was cut, so further pieces are ignored. */
  boolean stringFull() {
    return stringCut;
  }

  void endString() {
    buf[pos++] = '"';
    comma = true;
  }

  /** Appends one piece of the current string. */
  void append(CharSequence s) {
    if (s == null) {
      append("null");
      return;
    }
    int n = s.length();
    for (int i = 0; i < n && !stringCut; i++) {
      i = appendPlain(s, i, n);
      if (i == n) {
        return;
      }
      char c = s.charAt(i);
      if (c < 0x80) {
        appendAscii(c);
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        if (room(2, 4)) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          buf[pos++] = (byte) (0xF0 | (cp >> 18));
          buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
          buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
          buf[pos++] = (byte) (0x80 | (cp & 0x3F));
          advance(2);
        }
      } else {
        appendNonAscii(c);
      }
    }
  }

  /**
   * Copies the run of ASCII characters that need no escape starting at {@code from}, as far as it
   * stays clear of both limits with room for the marker; returns where the run stopped.
   */
  private int appendPlain(CharSequence s, int from, int n) {
    int room = Math.min(stringMaxChars - stringChars, end - depth - 1 - MARKER_BYTES.length - pos);
    int limit = room <= 0 ? from : (int) Math.min(n, (long) from + room);
    int i = from;
    while (i < limit) {
      char c = s.charAt(i);
      if (c >= 0x80 || ASCII_LENGTH[c] != 1) {
        break;
      }
      buf[pos++] = (byte) c;
      i++;
    }
    if (i > from) {
      stringChars += i - from;
      stringSafePos = pos;
    }
    return i;
  }

  /** Appends one character of the current string; a surrogate here is always lone. */
  void append(char c) {
    if (stringCut) {
      return;
    }
    if (c < 0x80) {
      appendAscii(c);
    } else {
      appendNonAscii(c);
    }
  }

  /** Appends the decimal digits of {@code value} to the current string. */
  void append(long value) {
    if (stringCut) {
      return;
    }
    if (value < 0) {
      appendAscii('-');
      if (value == Long.MIN_VALUE) {
        append("9223372036854775808");
        return;
      }
      value = -value;
    }
    long divisor = 1;
    while (value / divisor >= 10) {
      divisor *= 10;
    }
    for (; divisor > 0 && !stringCut; divisor /= 10) {
      appendAscii((char) ('0' + (value / divisor) % 10));
    }
  }

  private void appendAscii(char c) {
    int length = ASCII_LENGTH[c];
    if (!room(1, length)) {
      return;
    }
    if (length == 1) {
      buf[pos++] = (byte) c;
    } else if (length == 2) {
      buf[pos++] = '\\';
      buf[pos++] = SHORT_ESCAPE[c];
    } else {
      unicodeEscape(c);
    }
    advance(1);
  }

  private void appendNonAscii(char c) {
    if (Character.isSurrogate(c)) {
      // A lone surrogate cannot be encoded as UTF-8: write U+FFFD instead.
      if (room(1, 3)) {
        buf[pos++] = (byte) 0xEF;
        buf[pos++] = (byte) 0xBF;
        buf[pos++] = (byte) 0xBD;
        advance(1);
      }
    } else if (c == '\u2028' || c == '\u2029') {
      if (room(1, 6)) {
        unicodeEscape(c);
        advance(1);
      }
    } else if (c < 0x800) {
      if (room(1, 2)) {
        buf[pos++] = (byte) (0xC0 | (c >> 6));
        buf[pos++] = (byte) (0x80 | (c & 0x3F));
        advance(1);
      }
    } else if (room(1, 3)) {
      buf[pos++] = (byte) (0xE0 | (c >> 12));
      buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
      buf[pos++] = (byte) (0x80 | (c & 0x3F));
      advance(1);
    }
  }

  private void unicodeEscape(char c) {
    buf[pos++] = '\\';
    buf[pos++] = 'u';
    buf[pos++] = HEX[(c >> 12) & 0xF];
    buf[pos++] = HEX[(c >> 8) & 0xF];
    buf[pos++] = HEX[(c >> 4) & 0xF];
    buf[pos++] = HEX[c & 0xF];
  }

  /** Checks the character cap and the line budget for the next code point; cuts if exceeded. */
  private boolean room(int chars, int bytes) {
    if (stringChars + chars > stringMaxChars) {
      cut();
      return false;
    }
    if (pos + bytes + 1 + depth > end) {
      overflow = true;
      cut();
      return false;
    }
    return true;
  }

  private void advance(int chars) {
    stringChars += chars;
    if (pos + MARKER_BYTES.length + 1 + depth <= end) {
      stringSafePos = pos;
    }
  }

  private void cut() {
    if (pos + MARKER_BYTES.length + 1 + depth > end) {
      // Give back whole code points until the marker fits; stringSafePos is always a boundary.
      pos = stringSafePos;
    }
    System.arraycopy(MARKER_BYTES, 0, buf, pos, MARKER_BYTES.length);
    pos += MARKER_BYTES.length;
    stringCut = true;
  }

  /** Writes a long as a JSON number; the caller reserved {@link #LONG_BYTES}. */
  void longValue(long value) {
    if (value < 0) {
      buf[pos++] = '-';
      if (value == Long.MIN_VALUE) {
        System.arraycopy(LONG_MIN_DIGITS, 0, buf, pos, LONG_MIN_DIGITS.length);
        pos += LONG_MIN_DIGITS.length;
        comma = true;
        return;
      }
      value = -value;
    }
    long divisor = 1;
    while (value / divisor >= 10) {
      divisor *= 10;
    }
    for (; divisor > 0; divisor /= 10) {
      buf[pos++] = (byte) ('0' + (value / divisor) % 10);
    }
    comma = true;
  }

  /**
   * Writes text already checked by {@link #isJsonNumber} as a JSON number; the caller reserved its
   * length.
   */
  void rawNumber(CharSequence number) {
    int n = number.length();
    for (int i = 0; i < n; i++) {
      buf[pos++] = (byte) number.charAt(i);
    }
    comma = true;
  }

  void booleanValue(boolean value) {
    if (value) {
      buf[pos++] = 't';
      buf[pos++] = 'r';
      buf[pos++] = 'u';
      buf[pos++] = 'e';
    } else {
      buf[pos++] = 'f';
      buf[pos++] = 'a';
      buf[pos++] = 'l';
      buf[pos++] = 's';
      buf[pos++] = 'e';
    }
    comma = true;
  }

  /** Writes bytes that are already valid JSON value content; the caller reserved room. */
  void raw(byte[] bytes, int offset, int length) {
    System.arraycopy(bytes, offset, buf, pos, length);
    pos += length;
  }

  /** Writes one ASCII byte of value content; the caller reserved room. */
  void raw(char c) {
    buf[pos++] = (byte) c;
  }

  /** Marks the end of a value written with {@code raw}. */
  void endRawValue() {
    comma = true;
  }

  /**
   * Bytes of {@code s} as written inside quotes after cutting to {@code maxChars}, the marker
   * included when cut.
   */
  static int encodedLength(CharSequence s, int maxChars) {
    int n = s.length();
    int bytes = 0;
    int chars = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      int units = 1;
      int length;
      if (c < 0x80) {
        length = ASCII_LENGTH[c];
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        units = 2;
        length = 4;
      } else if (c == '\u2028' || c == '\u2029') {
        length = 6;
      } else if (c < 0x800 && !Character.isSurrogate(c)) {
        length = 2;
      } else {
        length = 3;
      }
      if (chars + units > maxChars) {
        return bytes + MARKER_BYTES.length;
      }
      chars += units;
      bytes += length;
      i += units - 1;
    }
    return bytes;
  }

  /** Whether {@code s} is a JSON number of at most {@link #MAX_NUMBER_CHARS} characters. */
  static boolean isJsonNumber(CharSequence s) {
    int n = s.length();
    if (n == 0 || n > MAX_NUMBER_CHARS) {
      return false;
    }
    int i = 0;
    if (s.charAt(i) == '-') {
      i++;
    }
    int intStart = i;
    while (i < n && isDigit(s.charAt(i))) {
      i++;
    }
    int intDigits = i - intStart;
    if (intDigits == 0 || (intDigits > 1 && s.charAt(intStart) == '0')) {
      return false;
    }
    if (i < n && s.charAt(i) == '.') {
      i++;
      int fracStart = i;
      while (i < n && isDigit(s.charAt(i))) {
        i++;
      }
      if (i == fracStart) {
        return false;
      }
    }
    if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
      i++;
      if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
        i++;
      }
      int expStart = i;
      while (i < n && isDigit(s.charAt(i))) {
        i++;
      }
      if (i == expStart) {
        return false;
      }
    }
    return i == n;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
