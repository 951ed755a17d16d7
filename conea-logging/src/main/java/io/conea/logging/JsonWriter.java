package io.conea.logging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

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

  private static final byte[] ZERO = "0.0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NEGATIVE_ZERO = "-0.0".getBytes(StandardCharsets.US_ASCII);

  /** 2^53: every long below it is exact as a double. */
  private static final double EXACT_LONG_LIMIT = 0x1p53;

  /** Bytes needed for each ASCII character inside a string: 1, 2 (short escape) or 6. */
  private static final byte[] ASCII_LENGTH = new byte[128];

  /** The short escape letter for an ASCII character, or 0 when it has none. */
  private static final byte[] SHORT_ESCAPE = new byte[128];

  /** Whether an ASCII character is written as itself inside a string. */
  private static final boolean[] PLAIN = new boolean[128];

  /** Powers of ten up to 10^18, all exact as longs and as doubles. */
  private static final long[] POWERS_OF_TEN = new long[19];

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
      PLAIN[c] = ASCII_LENGTH[c] == 1;
    }
    POWERS_OF_TEN[0] = 1;
    for (int i = 1; i < POWERS_OF_TEN.length; i++) {
      POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
    }
  }

  private final byte[] buf;

  /** Text of a number being formatted, before it is known to fit. */
  private final byte[] number = new byte[32];

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

  /**
   * The pre-encoded form ({@code "name":}) of a name that needs no escaping, for {@link
   * #name(byte[], int)} and {@link #reservedName}.
   */
  static byte[] encodedName(String name) {
    return ('"' + name + "\":").getBytes(StandardCharsets.UTF_8);
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
    long fixed = (long) pos + (comma ? 1 : 0) + 3 + valueBytes + depth;
    // Six bytes per character is the most any character takes: most names need no exact count.
    long mostBytes = 6L * Math.min(name.length(), maxChars) + MARKER_BYTES.length;
    if (fixed + mostBytes > end && fixed + encodedLength(name, maxChars) > end) {
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

  /** Appends one piece of the current string; {@code "null"} for null. */
  void append(@Nullable CharSequence s) {
    if (s == null) {
      append("null");
      return;
    }
    int n = s.length();
    for (int i = 0; i < n && !stringCut; i++) {
      // Strings take a loop of their own, so that text of other types cannot slow it down.
      i = s instanceof String ? appendPlain((String) s, i, n) : appendPlain(s, i, n);
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
  private int appendPlain(String s, int from, int n) {
    int limit = plainLimit(from, n);
    byte[] b = buf;
    // One index for both arrays, so that the compiler can drop the per-byte bounds checks.
    int shift = pos - from;
    int i = from;
    while (i < limit) {
      char c = s.charAt(i);
      if (c >= 0x80 || !PLAIN[c]) {
        break;
      }
      b[shift + i] = (byte) c;
      i++;
    }
    endPlain(from, i);
    return i;
  }

  private int appendPlain(CharSequence s, int from, int n) {
    int limit = plainLimit(from, n);
    byte[] b = buf;
    int shift = pos - from;
    int i = from;
    while (i < limit) {
      char c = s.charAt(i);
      if (c >= 0x80 || !PLAIN[c]) {
        break;
      }
      b[shift + i] = (byte) c;
      i++;
    }
    endPlain(from, i);
    return i;
  }

  /** Where a plain run starting at {@code from} must stop to keep room for the marker. */
  private int plainLimit(int from, int n) {
    int room = Math.min(stringMaxChars - stringChars, end - depth - 1 - MARKER_BYTES.length - pos);
    return room <= 0 ? from : (int) Math.min(n, (long) from + room);
  }

  private void endPlain(int from, int to) {
    if (to > from) {
      pos += to - from;
      stringChars += to - from;
      stringSafePos = pos;
    }
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
    int length = formatLong(value, number);
    for (int i = 0; i < length && !stringCut; i++) {
      appendAscii((char) number[i]);
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
    pos = writeLong(value, buf, pos);
    comma = true;
  }

  /**
   * Formats {@code value} as a JSON number for {@link #formattedNumber}, without allocating, when
   * that is simple and exact; returns its length, or -1 when the caller must use {@link
   * Double#toString}.
   *
   * <p>Covers finite values from 10^-3 up to 10^7 (in magnitude) and zero, which {@code
   * Double.toString} writes without an exponent: the value is written with the fewest fraction
   * digits, at least one, that read back as exactly the same double.
   */
  int formatDouble(double value) {
    if (value == 0) {
      return copyNumber(1 / value < 0 ? NEGATIVE_ZERO : ZERO);
    }
    double magnitude = Math.abs(value);
    if (!(magnitude >= 1e-3 && magnitude < 1e7)) {
      return -1;
    }
    for (int digits = 1; digits < POWERS_OF_TEN.length; digits++) {
      double scale = POWERS_OF_TEN[digits];
      double scaled = magnitude * scale;
      if (scaled >= EXACT_LONG_LIMIT) {
        return -1;
      }
      long unscaled = Math.round(scaled);
      // Both operands are exact and the division rounds once, as parsing the decimal text does.
      if (unscaled / scale == magnitude) {
        return formatDecimal(value < 0, unscaled, digits);
      }
    }
    return -1;
  }

  private int formatDecimal(boolean negative, long unscaled, int fractionDigits) {
    int p = 0;
    if (negative) {
      number[p++] = '-';
    }
    long scale = POWERS_OF_TEN[fractionDigits];
    p = writeLong(unscaled / scale, number, p);
    number[p++] = '.';
    long fraction = unscaled % scale;
    for (int i = p + fractionDigits - 1; i >= p; i--) {
      number[i] = (byte) ('0' + fraction % 10);
      fraction /= 10;
    }
    return p + fractionDigits;
  }

  private int copyNumber(byte[] text) {
    System.arraycopy(text, 0, number, 0, text.length);
    return text.length;
  }

  /**
   * Writes the {@code length} bytes formatted by the last {@link #formatDouble}; the caller
   * reserved them.
   */
  void formattedNumber(int length) {
    System.arraycopy(number, 0, buf, pos, length);
    pos += length;
    comma = true;
  }

  /** Writes the decimal digits of {@code value} at {@code at}; returns the position after them. */
  private static int writeLong(long value, byte[] into, int at) {
    if (value < 0) {
      into[at++] = '-';
      if (value == Long.MIN_VALUE) {
        System.arraycopy(LONG_MIN_DIGITS, 0, into, at, LONG_MIN_DIGITS.length);
        return at + LONG_MIN_DIGITS.length;
      }
      value = -value;
    }
    int digits = 1;
    while (digits < POWERS_OF_TEN.length && value >= POWERS_OF_TEN[digits]) {
      digits++;
    }
    int p = at + digits;
    // Division by a constant compiles to a multiplication, unlike division by a varying power.
    while (value >= 10) {
      long quotient = value / 10;
      into[--p] = (byte) ('0' + (value - quotient * 10));
      value = quotient;
    }
    into[--p] = (byte) ('0' + value);
    return at + digits;
  }

  private static int formatLong(long value, byte[] into) {
    return writeLong(value, into, 0);
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
