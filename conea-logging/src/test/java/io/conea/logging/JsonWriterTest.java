package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

  private static final String MARKER = JsonWriter.MARKER;
  private static final byte[] NAME = "\"v\":".getBytes(StandardCharsets.UTF_8);

  /** Writes {"v":"value"} with room for content up to {@code end}, then the closing bytes. */
  private static byte[] object(CharSequence value, int maxChars, int end) {
    JsonWriter writer = new JsonWriter(end + 16);
    writer.reset(end);
    writer.beginObject();
    if (writer.name(NAME, JsonWriter.MIN_VALUE_BYTES)) {
      writer.string(value, maxChars);
    }
    assertThat(writer.position()).isLessThanOrEqualTo(end);
    writer.endObject();
    writer.newline();
    return writer.toByteArray();
  }

  private static String roundTrip(CharSequence value, int maxChars) {
    return LogCapture.checkLine(object(value, maxChars, 10_000)).get("v").asText();
  }

  private static String raw(CharSequence value) {
    String line = new String(object(value, 1000, 10_000), StandardCharsets.UTF_8);
    return line.substring("{\"v\":\"".length(), line.length() - "\"}\n".length());
  }

  @Test
  void escapesQuoteBackslashAndEveryControlCharacter() {
    for (char c = 0; c < 0x80; c++) {
      String value = "a" + c + "b";
      assertThat(roundTrip(value, 100)).as("char %d", (int) c).isEqualTo(value);
      if (c < 0x20) {
        assertThat(raw(value)).as("char %d", (int) c).startsWith("a\\").hasSizeBetween(4, 8);
      }
    }
    assertThat(raw("\"\\\n\r\t\b\f")).isEqualTo("\\\"\\\\\\n\\r\\t\\b\\f");
    assertThat(raw("\u0000\u001f")).isEqualTo("\\u0000\\u001f");
    assertThat(raw("/\u007f")).isEqualTo("/\u007f");
  }

  @Test
  void escapesJavaScriptLineTerminators() {
    assertThat(raw("a\u2028b\u2029c")).isEqualTo("a\\u2028b\\u2029c");
    assertThat(roundTrip("a\u2028b\u2029c", 100)).isEqualTo("a\u2028b\u2029c");
  }

  @Test
  void writesOtherCharactersAsRawUtf8() {
    String value = "é日本語\uD83D\uDE00\uFFFF\uFEFF";
    assertThat(raw(value)).isEqualTo(value);
    assertThat(roundTrip(value, 100)).isEqualTo(value);
  }

  @Test
  void replacesLoneSurrogatesWithReplacementCharacter() {
    assertThat(roundTrip("a\uD800b", 100)).isEqualTo("a\uFFFDb");
    assertThat(roundTrip("a\uDC00b", 100)).isEqualTo("a\uFFFDb");
    assertThat(roundTrip("\uDE00\uD83D", 100)).as("reversed pair").isEqualTo("\uFFFD\uFFFD");
    assertThat(roundTrip("end\uD83D", 100)).isEqualTo("end\uFFFD");
    assertThat(roundTrip("\uD83D\uD83D\uDE00", 100)).isEqualTo("\uFFFD\uD83D\uDE00");
  }

  @Test
  void cutsAtTheCharacterCapWithAMarker() {
    assertThat(roundTrip("abcdef", 6)).isEqualTo("abcdef");
    assertThat(roundTrip("abcdefg", 6)).isEqualTo("abcdef" + MARKER);
    assertThat(roundTrip("", 1)).isEmpty();
  }

  @Test
  void neverSplitsASurrogatePairAtTheCharacterCap() {
    assertThat(roundTrip("ab\uD83D\uDE00", 3)).isEqualTo("ab" + MARKER);
    assertThat(roundTrip("ab\uD83D\uDE00", 4)).isEqualTo("ab\uD83D\uDE00");
    assertThat(roundTrip("ab\uD83D\uDE00c", 4)).isEqualTo("ab\uD83D\uDE00" + MARKER);
  }

  @Test
  void cutsAtTheLineBudgetWithoutSplittingAnEscapeOrACharacter() {
    String value = "a\n\u0001é日\uD83D\uDE00\u2028\"b".repeat(3);
    String full = roundTrip(value, 1000);
    // The name, the smallest value and the closing brace.
    int smallest = "{\"v\":".length() + JsonWriter.MIN_VALUE_BYTES + 1;
    for (int end = smallest; end < 200; end++) {
      JsonWriter writer = new JsonWriter(end + 16);
      writer.reset(end);
      writer.beginObject();
      assertThat(writer.name(NAME, JsonWriter.MIN_VALUE_BYTES)).isTrue();
      writer.string(value, 1000);
      assertThat(writer.position()).as("end %d", end).isLessThanOrEqualTo(end);
      boolean cut = writer.overflowed();
      writer.endObject();
      writer.newline();
      String parsed = LogCapture.checkLine(writer.toByteArray()).get("v").asText();
      if (cut) {
        assertThat(parsed).as("end %d", end).endsWith(MARKER);
        assertThat(full).startsWith(parsed.substring(0, parsed.length() - MARKER.length()));
      } else {
        assertThat(parsed).isEqualTo(full);
      }
    }
  }

  @Test
  void refusesANameWhoseValueCannotFollowAndStaysInOverflow() {
    JsonWriter writer = new JsonWriter(64);
    writer.reset(20);
    writer.beginObject();
    assertThat(writer.name(NAME, JsonWriter.MIN_VALUE_BYTES)).isFalse();
    assertThat(writer.overflowed()).isTrue();
    assertThat(writer.name(NAME, 1)).as("nothing more after overflow").isFalse();
    assertThat(writer.position()).isEqualTo(1);
  }

  @Test
  void writesNamesGivenAsTextWhole() {
    JsonWriter writer = new JsonWriter(200);
    writer.reset(100);
    writer.beginObject();
    assertThat(writer.name("k\"\n", 10, 1)).isTrue();
    writer.booleanValue(false);
    assertThat(writer.name("abcdefgh", 4, JsonWriter.LONG_BYTES)).isTrue();
    writer.longValue(Long.MIN_VALUE);
    assertThat(writer.name("x".repeat(80), 1000, 1)).as("would not fit whole").isFalse();
    writer.endObject();
    writer.newline();
    JsonNode node = LogCapture.checkLine(writer.toByteArray());
    assertThat(LogCapture.fieldNames(node)).containsExactly("k\"\n", "abcd" + MARKER);
    assertThat(node.get("abcd" + MARKER).asLong()).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void encodedLengthMatchesWhatIsWritten() {
    String[] values = {"", "plain", "\u0000\"\\é日\uD83D\uDE00\u2028\uD800", "x".repeat(50)};
    for (String value : values) {
      for (int cap = 1; cap < 60; cap++) {
        JsonWriter writer = new JsonWriter(1000);
        writer.reset(900);
        writer.beginString(cap);
        writer.append(value);
        int length = writer.position() - 1;
        assertThat(JsonWriter.encodedLength(value, cap))
            .as("%s cap %d", value, cap)
            .isEqualTo(length);
      }
    }
  }

  @Test
  void writesLongsAndAppendedNumbersExactly() {
    long[] values = {0, 7, -7, 10, 99, 100, Long.MAX_VALUE, Long.MIN_VALUE, 1_000_000_000_000L};
    for (long value : values) {
      JsonWriter writer = new JsonWriter(100);
      writer.reset(80);
      writer.beginObject();
      writer.name(NAME, JsonWriter.LONG_BYTES);
      writer.longValue(value);
      writer.name("s", 10, JsonWriter.MIN_VALUE_BYTES);
      writer.beginString(100);
      writer.append(value);
      writer.endString();
      writer.endObject();
      writer.newline();
      JsonNode node = LogCapture.checkLine(writer.toByteArray());
      assertThat(node.get("v").asLong()).isEqualTo(value);
      assertThat(node.get("s").asText()).isEqualTo(Long.toString(value));
    }
  }

  @Test
  void formatsDoublesThatReadBackExactlyAndLikeDoubleToString() {
    double[] values = {0.0375, 245.0, 12.5, 0.001, 9_999_999.5, 0.1, 1.0 / 3, -2.75, 0.0, -0.0};
    for (double value : values) {
      assertThat(formatted(value)).as("%s", value).isEqualTo(Double.toString(value));
    }
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < 100_000; i++) {
      double value =
          switch (i % 3) {
            case 0 -> Math.round(random.nextDouble() * 1e6) / 1e4;
            case 1 -> (random.nextDouble() - 0.5) * 2e7;
            default -> Double.longBitsToDouble(random.nextLong());
          };
      String text = formatted(value);
      if (text != null) {
        assertThat(JsonWriter.isJsonNumber(text)).as(text).isTrue();
        assertThat(Double.parseDouble(text)).as(text).isEqualTo(value);
      }
    }
  }

  @Test
  void leavesDoublesOutsideThePlainRangeToDoubleToString() {
    double[] values = {
      1e-4, 1e7, -1e7, 1e20, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE
    };
    for (double value : values) {
      assertThat(formatted(value)).as("%s", value).isNull();
    }
  }

  /** The JSON number written for {@code value}, or null when the writer declines it. */
  private static String formatted(double value) {
    JsonWriter writer = new JsonWriter(100);
    writer.reset(80);
    int length = writer.formatDouble(value);
    if (length < 0) {
      return null;
    }
    writer.formattedNumber(length);
    return new String(writer.toByteArray(), StandardCharsets.US_ASCII);
  }

  @Test
  void recognisesExactlyJsonNumberSyntax() {
    String[] numbers = {"0", "-0", "200", "245", "0.0375", "-1.5e10", "1E+3", "1e-3", "12.50"};
    String[] others = {
      "",
      "-",
      "01",
      "1.",
      ".5",
      "1e",
      "1e+",
      "+1",
      "NaN",
      "Infinity",
      " 1",
      "1 ",
      "0x1f",
      "1_0",
      "1".repeat(JsonWriter.MAX_NUMBER_CHARS + 1)
    };
    for (String number : numbers) {
      assertThat(JsonWriter.isJsonNumber(number)).as(number).isTrue();
    }
    for (String other : others) {
      assertThat(JsonWriter.isJsonNumber(other)).as(other).isFalse();
    }
  }
}
