package io.conea.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the demo a steady, realistic mix of requests on both ports, so its metrics, logs and traces
 * fill at once: mostly fast successes, some AI calls, some slow requests and some errors.
 */
final class TrafficGenerator implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrafficGenerator.class);
  private static final List<String> MODELS =
      List.of("gpt-4", "gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-haiku");
  private static final List<String> PROMPTS =
      List.of(
          "Summarise the quarterly report in three bullet points.",
          "Translate 'good morning' into Japanese.",
          "Write a haiku about observability.",
          "Explain the difference between a counter and a gauge.",
          "Draft a polite reply declining the meeting.");
  private static final List<String> JOB_TYPES = List.of("etl", "report", "export", "import");

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "traffic");
            thread.setDaemon(true);
            return thread;
          });
  private final SplittableRandom random = new SplittableRandom(42);
  private final List<Integer> ports;

  TrafficGenerator(List<Integer> ports) {
    this.ports = ports;
  }

  /** Starts sending about {@code perSecond} requests a second, spread over the ports. */
  void start(int perSecond) {
    long periodMicros = 1_000_000L / perSecond;
    timer.scheduleAtFixedRate(this::sendOne, 500_000, periodMicros, TimeUnit.MICROSECONDS);
    log.atInfo().addKeyValue("rate_per_second", perSecond).log("sending demo traffic");
  }

  private void sendOne() {
    try {
      int port = ports.get(random.nextInt(ports.size()));
      String user = "user_" + (100 + random.nextInt(20));
      String organization = "org_" + (400 + random.nextInt(5));
      HttpRequest.Builder request =
          HttpRequest.newBuilder()
              .timeout(Duration.ofSeconds(15))
              .header("X-User-Id", user)
              .header("X-Organization-Id", organization);
      String base = "http://127.0.0.1:" + port;
      int pick = random.nextInt(100);
      if (pick < 30) {
        request.uri(URI.create(base + "/api/v1/health")).GET();
      } else if (pick < 52) {
        request.uri(URI.create(base + "/api/v1/users/" + random.nextInt(1, 5000))).GET();
      } else if (pick < 70) {
        String model = MODELS.get(random.nextInt(MODELS.size()));
        String body =
            "{\"model\":\"%s\",\"provider\":\"%s\",\"prompt\":\"%s\"}"
                .formatted(
                    model,
                    model.startsWith("claude") ? "anthropic" : "openai",
                    PROMPTS.get(random.nextInt(PROMPTS.size())));
        request
            .uri(URI.create(base + "/api/v1/ai/chat"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
      } else if (pick < 80) {
        String jobType = JOB_TYPES.get(random.nextInt(JOB_TYPES.size()));
        String fail = random.nextInt(10) == 0 ? "?fail=true" : "";
        request
            .uri(URI.create(base + "/api/v1/jobs/" + jobType + fail))
            .POST(HttpRequest.BodyPublishers.noBody());
      } else if (pick < 87) {
        request.uri(URI.create(base + "/api/v1/slow?ms=" + random.nextInt(50, 1500))).GET();
      } else if (pick < 92) {
        request.uri(URI.create(base + "/api/v1/fail")).GET();
      } else if (pick < 96) {
        request.uri(URI.create(base + "/api/v1/no-such-page")).GET();
      } else {
        request
            .uri(URI.create(base + "/api/v1/ai/chat"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4\""));
      }
      client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (RuntimeException e) {
      log.atWarn().addKeyValue("error", e.toString()).log("could not send demo traffic");
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
