package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.Scrape;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** A Prometheus text scrape parsed back into samples, so tests read what Prometheus reads. */
final class Scraped {

  record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples = new ArrayList<>();
  private final String text;

  private Scraped(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        samples.add(parse(line));
      }
    }
  }

  static Scraped of(PrometheusMetrics prometheus) {
    Scrape scrape = prometheus.scrape(null, null);
    assertThat(scrape.status()).isEqualTo(200);
    return new Scraped(new String(scrape.body(), StandardCharsets.UTF_8));
  }

  String text() {
    return text;
  }

  List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The value of the one sample with exactly these labels, given as key, value, ... */
  double value(String name, String... keysAndValues) {
    Map<String, String> wanted = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      wanted.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    List<Sample> matching = named(name).stream().filter(s -> s.labels().equals(wanted)).toList();
    assertThat(matching).as("samples of %s%s in%n%s", name, wanted, text).hasSize(1);
    return matching.get(0).value();
  }

  /** The sum over every sample of {@code name}; 0 when there is none. */
  double sum(String name) {
    return named(name).stream().mapToDouble(Sample::value).sum();
  }

  /** The distinct label key sets that samples of {@code name} carry. */
  Set<Set<String>> labelKeys(String name) {
    Set<Set<String>> keys = new LinkedHashSet<>();
    for (Sample sample : named(name)) {
      keys.add(sample.labels().keySet());
    }
    return keys;
  }

  Set<String> labelValues(String name, String key) {
    Set<String> values = new LinkedHashSet<>();
    for (Sample sample : named(name)) {
      values.add(sample.labels().get(key));
    }
    return values;
  }

  private static Sample parse(String line) {
    int brace = line.indexOf('{');
    int space = line.lastIndexOf(' ');
    Map<String, String> labels = new TreeMap<>();
    String name;
    if (brace < 0 || brace > line.indexOf(' ')) {
      name = line.substring(0, line.indexOf(' '));
    } else {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq);
        StringBuilder value = new StringBuilder();
        i = eq + 2;
        while (line.charAt(i) != '"') {
          char c = line.charAt(i++);
          if (c == '\\') {
            char escaped = line.charAt(i++);
            value.append(escaped == 'n' ? '\n' : escaped);
          } else {
            value.append(c);
          }
        }
        labels.put(key, value.toString());
        i++;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
    }
    String value = line.substring(space + 1);
    return new Sample(
        name, labels, value.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(value));
  }
}
