package io.conea.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Locale;

/** GETs JSON from the HTTP API of a server (Prometheus, Alertmanager) named in the messages. */
final class HttpApi {

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(CONNECT_TIMEOUT)
          .followRedirects(HttpClient.Redirect.NORMAL)
          .build();

  /** What a server answered: the HTTP status and the body, parsed as JSON when it is JSON. */
  record Answer(int status, String body, JsonNode json) {}

  private final String server;
  private final String base;
  private final ObjectMapper json;

  /**
   * @param server what the server is, for messages ("Prometheus")
   * @param url the server's base URL as the user gave it (a path prefix is kept)
   */
  HttpApi(String server, String url, ObjectMapper json) throws ReportException {
    this.server = server;
    this.base = baseUrl(server, url);
    this.json = json;
  }

  String base() {
    return base;
  }

  /** GETs {@code pathAndQuery} (starting with '/'); a transport error is a ReportException. */
  Answer get(String pathAndQuery) throws ReportException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json")
            .GET()
            .build();
    HttpResponse<String> response;
    try {
      response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (HttpConnectTimeoutException e) {
      throw new ReportException(
          "cannot reach "
              + server
              + " at "
              + base
              + ": no connection within "
              + seconds(CONNECT_TIMEOUT));
    } catch (HttpTimeoutException e) {
      throw new ReportException(
          server + " at " + base + " did not answer within " + seconds(REQUEST_TIMEOUT));
    } catch (ConnectException e) {
      throw new ReportException(
          "cannot reach " + server + " at " + base + ": " + describe(e, "connection refused"));
    } catch (IOException | UnresolvedAddressException e) {
      throw new ReportException(
          "cannot reach "
              + server
              + " at "
              + base
              + ": "
              + describe(e, e.getClass().getSimpleName()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ReportException("interrupted while waiting for " + server);
    }
    String body = response.body();
    JsonNode parsed;
    try {
      parsed = json.readTree(body);
    } catch (IOException e) {
      parsed = null;
    }
    if (parsed == null || parsed.isMissingNode()) {
      parsed = json.nullNode();
    }
    return new Answer(response.statusCode(), body, parsed);
  }

  /** The start of a body for a message: one line, at most 200 characters. */
  static String excerpt(String body) {
    String line = ReportException.oneLine(body);
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }

  private static String baseUrl(String server, String url) throws ReportException {
    URI uri;
    try {
      uri = new URI(url.strip());
    } catch (URISyntaxException e) {
      throw new ReportException("invalid " + server + " URL '" + url + "': " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new ReportException(
          "invalid " + server + " URL '" + url + "': expected http://host:port or https://...");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new ReportException(
          "invalid " + server + " URL '" + url + "': no query or fragment, only a base URL");
    }
    String text = uri.toString();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return text;
  }

  private static String describe(Throwable e, String fallback) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return t.getMessage();
      }
    }
    return fallback;
  }

  private static String seconds(Duration duration) {
    return duration.toSeconds() + " s";
  }
}
