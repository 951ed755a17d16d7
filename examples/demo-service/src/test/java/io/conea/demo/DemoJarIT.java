package io.conea.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the packaged executable jar as README does and stops it with SIGTERM. */
class DemoJarIT {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesBothPortsLogsJsonAndStopsGracefullyOnSigterm() throws Exception {
    DemoJarProcess demo = DemoJarProcess.start("demo-it", Map.of(), "--traffic");
    Process process = demo.process();
    int servletPort = demo.servletPort();
    int nettyPort = demo.nettyPort();
    Path stdoutFile = demo.stdout();
    try {
      assertThat(get(nettyPort, "/api/v1/users/7").statusCode()).isEqualTo(200);
      assertThat(get(servletPort, "/api/v1/nope").statusCode()).isEqualTo(404);
      assertThat(get(nettyPort, "/api/v1/fail").statusCode()).isEqualTo(500);
      HttpResponse<String> chat =
          CLIENT.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + nettyPort + "/api/v1/ai/chat"))
                  .header("X-User-Id", "user_123")
                  .header("X-Organization-Id", "org_456")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"hello\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(chat.statusCode()).isEqualTo(200);

      // A request in flight when SIGTERM arrives still gets its answer.
      CompletableFuture<HttpResponse<String>> inFlight =
          CLIENT.sendAsync(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + servletPort + "/api/v1/slow?ms=1500"))
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      Thread.sleep(300);
      process.destroy(); // SIGTERM
      assertThat(inFlight.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("stopped within 30 s").isTrue();
    } finally {
      process.destroyForcibly();
    }
    List<String> stdout = Files.readAllLines(stdoutFile, StandardCharsets.UTF_8);

    ObjectMapper json = new ObjectMapper();
    assertThat(stdout).isNotEmpty();
    for (String line : stdout) {
      assertThat(json.readTree(line).get("level")).as(line).isNotNull();
    }
    assertThat(stdout).anySatisfy(line -> assertThat(line).contains("conea demo service stopped"));
    // The guide's example line: request fields from the filter, usage in metadata.
    assertThat(stdout)
        .anySatisfy(
            line -> {
              var event = json.readTree(line);
              assertThat(event.path("message").asText()).isEqualTo("AI chat request completed");
              assertThat(event.path("user_id").asText()).isEqualTo("user_123");
              assertThat(event.path("organization_id").asText()).isEqualTo("org_456");
              assertThat(event.path("method").asText()).isEqualTo("POST");
              assertThat(event.path("path").asText()).isEqualTo("/api/v1/ai/chat");
              assertThat(event.path("trace_id").asText()).hasSize(32);
              assertThat(event.path("status").isInt()).isTrue();
              assertThat(event.path("duration_ms").isNumber()).isTrue();
              assertThat(event.path("metadata").path("model").asText()).isEqualTo("gpt-4");
              assertThat(event.path("metadata").path("tokens").isNumber()).isTrue();
              assertThat(event.path("metadata").path("cost").isNumber()).isTrue();
            });
    // One line per request, with what the guide's LogQL queries filter on, as JSON numbers.
    assertThat(stdout)
        .anySatisfy(
            line -> {
              var event = json.readTree(line);
              assertThat(event.path("message").asText()).startsWith("GET /api/v1/users/7 200 ");
              assertThat(event.path("method").asText()).isEqualTo("GET");
              assertThat(event.path("path").asText()).isEqualTo("/api/v1/users/7");
              assertThat(event.path("status").isInt()).isTrue();
              assertThat(event.path("status").asInt()).isEqualTo(200);
              assertThat(event.path("duration_ms").isNumber()).isTrue();
              assertThat(event.path("trace_id").asText()).hasSize(32);
            });
    // An error line carries the status it was answered with.
    assertThat(stdout)
        .anySatisfy(
            line -> {
              var event = json.readTree(line);
              assertThat(event.path("level").asText()).isEqualTo("error");
              assertThat(event.path("message").asText()).isEqualTo("simulated failure");
              assertThat(event.path("status").asInt()).isEqualTo(500);
              assertThat(event.path("path").asText()).isEqualTo("/api/v1/fail");
            });
  }
}
