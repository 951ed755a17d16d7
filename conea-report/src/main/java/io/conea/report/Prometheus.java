package io.conea.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Instant queries through Prometheus' HTTP API ({@code GET /api/v1/query}). */
final class Prometheus {

  /** One element of a query result: its labels and its value (possibly NaN or infinite). */
  record Sample(Map<String, String> labels, double value) {
    String label(String name) {
      return labels.getOrDefault(name, "");
    }
  }

  private final HttpApi api;

  Prometheus(String url, ObjectMapper json) throws ReportException {
    this.api = new HttpApi("Prometheus", url, json);
  }

  String url() {
    return api.base();
  }

  /**
   * Evaluates {@code expr} at {@code time} (seconds since the epoch). A vector gives one sample per
   * series, a scalar one sample without labels. Unreachable servers, HTTP errors, query errors and
   * other result types are ReportExceptions (exit code 2); an empty result is an empty list.
   */
  List<Sample> query(String expr, double time) throws ReportException {
    HttpApi.Answer answer =
        api.get(
            "/api/v1/query?query="
                + URLEncoder.encode(expr, StandardCharsets.UTF_8)
                + "&time="
                + String.format(Locale.ROOT, "%.3f", time));
    JsonNode body = answer.json();
    String query = ReportException.oneLine(expr);
    if (!"success".equals(body.path("status").asText())) {
      if (body.has("error")) {
        throw new ReportException(
            "Prometheus rejected the query "
                + query
                + ": "
                + body.path("errorType").asText("error")
                + ": "
                + body.path("error").asText());
      }
      throw new ReportException(
          "Prometheus at "
              + api.base()
              + " answered HTTP "
              + answer.status()
              + " to /api/v1/query, not a Prometheus API answer: "
              + HttpApi.excerpt(answer.body()));
    }
    JsonNode data = body.path("data");
    String type = data.path("resultType").asText();
    List<Sample> samples = new ArrayList<>();
    switch (type) {
      case "vector" -> {
        for (JsonNode element : data.path("result")) {
          Map<String, String> labels = new LinkedHashMap<>();
          element
              .path("metric")
              .properties()
              .forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
          samples.add(new Sample(labels, value(element.path("value"), query)));
        }
      }
      case "scalar" -> samples.add(new Sample(Map.of(), value(data.path("result"), query)));
      default ->
          throw new ReportException(
              "the query " + query + " gives a " + type + ", not an instant vector or a scalar");
    }
    return samples;
  }

  /** A [time, "value"] pair's value; Prometheus writes NaN, +Inf and -Inf as such. */
  private static double value(JsonNode pair, String query) throws ReportException {
    String text = pair.path(1).asText(null);
    if (text == null) {
      throw new ReportException("Prometheus answered the query " + query + " without a value");
    }
    switch (text) {
      case "NaN":
        return Double.NaN;
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      default:
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw new ReportException(
              "Prometheus answered the query "
                  + query
                  + " with a value that is not a number: "
                  + text);
        }
    }
  }
}
