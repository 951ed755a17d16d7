package io.conea.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;

/**
 * What a command runs with: where it prints, the directory relative paths start from, the clock
 * that fixes the evaluation time, and the JSON and YAML mappers.
 */
record Context(PrintStream out, PrintStream err, Path workingDir, Clock clock) {

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Now, in seconds since the epoch with millisecond precision: the time every query is at. */
  double now() {
    return clock.millis() / 1000.0;
  }

  /**
   * A time in seconds since the epoch as a plain decimal number (1748255400.123), as Prometheus.
   */
  static BigDecimal seconds(double time) {
    return BigDecimal.valueOf(Math.round(time * 1000)).movePointLeft(3);
  }

  static String iso(double time) {
    return Instant.ofEpochMilli(Math.round(time * 1000)).toString();
  }

  /** Prints {@code node} as indented JSON. */
  void printJson(JsonNode node) {
    try {
      out.println(JSON.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Puts {@code value} under {@code key}: a number, null for NaN (no value), or "+Inf" / "-Inf" as
   * Prometheus writes them (JSON has no infinite numbers).
   */
  static void putNumber(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else if (Double.isNaN(value)) {
      node.putNull(key);
    } else {
      node.put(key, value > 0 ? "+Inf" : "-Inf");
    }
  }
}
