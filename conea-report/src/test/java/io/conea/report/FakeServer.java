package io.conea.report;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** A stand-in for Prometheus or Alertmanager on a free loopback port, answering canned JSON. */
final class FakeServer implements AutoCloseable {

  /** An answer: HTTP status and body. */
  record Response(int status, String body) {}

  private final HttpServer server;

  /** Every request's path and query, decoded, in arrival order. */
  final List<URI> requests = Collections.synchronizedList(new ArrayList<>());

  FakeServer(Function<URI, Response> handler) {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext(
        "/",
        exchange -> {
          URI uri = exchange.getRequestURI();
          requests.add(uri);
          Response response = handler.apply(uri);
          byte[] body = response.body().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(response.status(), body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The decoded query parameters of a request. */
  static Map<String, String> params(URI uri) {
    Map<String, String> params = new LinkedHashMap<>();
    String query = uri.getRawQuery();
    if (query == null) {
      return params;
    }
    for (String pair : query.split("&")) {
      int equals = pair.indexOf('=');
      params.put(
          URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
    }
    return params;
  }

  /** The PromQL of the Prometheus queries received. */
  List<String> queries() {
    synchronized (requests) {
      return requests.stream().map(uri -> params(uri).get("query")).toList();
    }
  }

  /** A Prometheus instant-vector answer with one sample per label set. */
  static Response vector(Map<Map<String, String>, Double> samples) {
    StringBuilder result = new StringBuilder();
    samples.forEach(
        (labels, value) -> {
          if (result.length() > 0) {
            result.append(',');
          }
          StringBuilder metric = new StringBuilder();
          labels.forEach(
              (k, v) ->
                  metric
                      .append(metric.length() == 0 ? "" : ",")
                      .append('"')
                      .append(k)
                      .append("\":\"")
                      .append(v)
                      .append('"'));
          result
              .append("{\"metric\":{")
              .append(metric)
              .append("},\"value\":[1700000000,\"")
              .append(format(value))
              .append("\"]}");
        });
    return new Response(
        200,
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            + result
            + "]}}");
  }

  /** A vector of one sample without labels. */
  static Response value(double value) {
    return vector(Map.of(Map.of(), value));
  }

  static Response empty() {
    return vector(Map.of());
  }

  private static String format(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    return String.format(Locale.ROOT, "%s", value);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
