package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A scrape in the Prometheus text or OpenMetrics format, parsed back into samples, so that tests
 * assert on what Prometheus itself would read.
 */
final class Samples {

  /** One sample line: name, labels, value. */
  record Sample(String name, Map<String, String> labels, double value, String line) {}

  private final List<Sample> samples = new ArrayList<>();
  private final List<String> comments = new ArrayList<>();

  private Samples() {}

  static Samples parse(String text) {
    Samples parsed = new Samples();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        parsed.comments.add(line);
      } else {
        parsed.samples.add(parseSample(line));
      }
    }
    return parsed;
  }

  static Samples scrape(PrometheusMetrics prometheus) {
    Scrape scrape = prometheus.scrape(null, null);
    assertThat(scrape.status()).isEqualTo(200);
    return parse(new String(scrape.body(), java.nio.charset.StandardCharsets.UTF_8));
  }

  List<Sample> all() {
    return samples;
  }

  List<String> comments() {
    return comments;
  }

  List<Sample> named(String name) {
    List<Sample> named = new ArrayList<>();
    for (Sample sample : samples) {
      if (sample.name().equals(name)) {
        named.add(sample);
      }
    }
    return named;
  }

  /** The names of all samples, in order of first appearance. */
  Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    for (Sample sample : samples) {
      names.add(sample.name());
    }
    return names;
  }

  /** The value of the one sample with exactly these labels, given as key, value, key, value. */
  double value(String name, String... labels) {
    Map<String, String> wanted = labels(labels);
    List<Sample> matching = new ArrayList<>();
    for (Sample sample : named(name)) {
      if (sample.labels().equals(wanted)) {
        matching.add(sample);
      }
    }
    assertThat(matching).as("samples of %s%s", name, wanted).hasSize(1);
    return matching.get(0).value();
  }

  double sum(String name) {
    double sum = 0;
    for (Sample sample : named(name)) {
      sum += sample.value();
    }
    return sum;
  }

  Set<String> labelValues(String name, String key) {
    Set<String> values = new LinkedHashSet<>();
    for (Sample sample : named(name)) {
      values.add(sample.labels().get(key));
    }
    return values;
  }

  Set<Set<String>> labelKeys(String name) {
    Set<Set<String>> keys = new LinkedHashSet<>();
    for (Sample sample : named(name)) {
      keys.add(sample.labels().keySet());
    }
    return keys;
  }

  static Map<String, String> labels(String... keysAndValues) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      labels.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return labels;
  }

  private static Sample parseSample(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    Map<String, String> labels = new TreeMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq);
        i = eq + 2; // past ="
        StringBuilder value = new StringBuilder();
        while (line.charAt(i) != '"') {
          char c = line.charAt(i);
          if (c == '\\') {
            char next = line.charAt(++i);
            value.append(next == 'n' ? '\n' : next);
          } else {
            value.append(c);
          }
          i++;
        }
        labels.put(key, value.toString());
        i++; // past "
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      i++; // past }
    }
    String rest = line.substring(i).trim();
    int space = rest.indexOf(' ');
    String value = space < 0 ? rest : rest.substring(0, space);
    return new Sample(name, new LinkedHashMap<>(labels), number(value), line);
  }

  private static double number(String value) {
    switch (value) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      default:
        return Double.parseDouble(value);
    }
  }
}
