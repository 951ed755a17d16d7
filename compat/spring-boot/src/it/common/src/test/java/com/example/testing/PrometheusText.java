package com.example.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A parser of the Prometheus text exposition format (version 0.0.4), strict about its syntax. */
public final class PrometheusText {

  /** One sample line: metric name, label set and value. */
  public record Sample(String name, Map<String, String> labels, double value) {

    /** The series this sample belongs to, as Prometheus would identify it. */
    public String series() {
      return name + labels;
    }
  }

  private final List<Sample> samples;
  private final List<String> typedFamilies;

  private PrometheusText(List<Sample> samples, List<String> typedFamilies) {
    this.samples = samples;
    this.typedFamilies = typedFamilies;
  }

  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    List<String> typedFamilies = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      try {
        if (line.startsWith("#")) {
          String[] parts = line.split(" ", 4);
          if (parts.length >= 3 && parts[1].equals("TYPE")) {
            typedFamilies.add(parts[2]);
          }
          continue;
        }
        samples.add(new LineParser(line).sample());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "Malformed line " + (i + 1) + " of the scrape: " + line + " (" + e.getMessage() + ")",
            e);
      }
    }
    return new PrometheusText(
        Collections.unmodifiableList(samples), Collections.unmodifiableList(typedFamilies));
  }

  public List<Sample> samples() {
    return samples;
  }

  public List<Sample> samples(String name) {
    return samples.stream().filter(sample -> sample.name().equals(name)).toList();
  }

  /** Returns the value of the sample with exactly these labels, or NaN when there is none. */
  public double value(String name, Map<String, String> labels) {
    return samples(name).stream()
        .filter(sample -> sample.labels().equals(labels))
        .mapToDouble(Sample::value)
        .findFirst()
        .orElse(Double.NaN);
  }

  /** The names given in {@code # TYPE} lines, in order, repeats included. */
  public List<String> typedFamilies() {
    return typedFamilies;
  }

  private static final class LineParser {
    private final String line;
    private int pos;

    LineParser(String line) {
      this.line = line;
    }

    Sample sample() {
      String name = name();
      Map<String, String> labels = new TreeMap<>();
      if (peek() == '{') {
        pos++;
        labels(labels);
      }
      expect(' ');
      int start = pos;
      while (pos < line.length() && line.charAt(pos) != ' ') {
        pos++;
      }
      double value = value(line.substring(start, pos));
      if (pos < line.length()) {
        // An optional timestamp, in milliseconds.
        pos++;
        Long.parseLong(line.substring(pos));
      }
      return new Sample(name, Collections.unmodifiableMap(labels), value);
    }

    private String name() {
      int start = pos;
      while (pos < line.length()) {
        char c = line.charAt(pos);
        boolean valid =
            (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || c == '_'
                || c == ':'
                || (pos > start && c >= '0' && c <= '9');
        if (!valid) {
          break;
        }
        pos++;
      }
      if (pos == start) {
        throw new IllegalArgumentException("no name at column " + pos);
      }
      return line.substring(start, pos);
    }

    private void labels(Map<String, String> labels) {
      while (true) {
        if (peek() == '}') {
          pos++;
          return;
        }
        String labelName = name();
        expect('=');
        expect('"');
        StringBuilder value = new StringBuilder();
        while (true) {
          char c = next();
          if (c == '"') {
            break;
          }
          if (c == '\\') {
            char escaped = next();
            switch (escaped) {
              case '\\' -> value.append('\\');
              case '"' -> value.append('"');
              case 'n' -> value.append('\n');
              default ->
                  throw new IllegalArgumentException("bad escape \\" + escaped + " at " + pos);
            }
          } else {
            value.append(c);
          }
        }
        if (labels.put(labelName, value.toString()) != null) {
          throw new IllegalArgumentException("label " + labelName + " repeated");
        }
        char after = next();
        if (after == '}') {
          return;
        }
        if (after != ',') {
          throw new IllegalArgumentException("expected ',' or '}' at column " + (pos - 1));
        }
      }
    }

    private static double value(String text) {
      return switch (text) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(text);
      };
    }

    private char peek() {
      return pos < line.length() ? line.charAt(pos) : '\0';
    }

    private char next() {
      if (pos >= line.length()) {
        throw new IllegalArgumentException("unexpected end of line");
      }
      return line.charAt(pos++);
    }

    private void expect(char expected) {
      char c = next();
      if (c != expected) {
        throw new IllegalArgumentException(
            "expected '" + expected + "' at column " + (pos - 1) + ", found '" + c + "'");
      }
    }
  }
}
