package io.conea.example.boot;

import io.conea.ai.AiCalls;
import io.conea.metrics.ConeaMetrics;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** The demo service's API (README, "Try the demo"). */
@RestController
@RequestMapping("/api/v1")
public class ApiController {

  private static final Logger log = LoggerFactory.getLogger(ApiController.class);
  private static final long MAX_SLOW_MILLIS = 10_000;
  private static final int MAX_FIELD_CHARS = 32_768;

  private final ChatModel chat;
  private final AiCalls ai;
  private final ConeaMetrics metrics;

  public ApiController(ChatModel chat, AiCalls ai, ConeaMetrics metrics) {
    this.chat = chat;
    this.ai = ai;
    this.metrics = metrics;
  }

  @GetMapping("/health")
  public Map<String, String> health() {
    return Map.of("status", "ok");
  }

  @PostMapping("/ai/chat")
  public Map<String, Object> chat(@RequestBody Map<String, Object> request) {
    String model = field(request, "model");
    String provider = field(request, "provider");
    String prompt = field(request, "prompt");
    ChatModel.Reply reply = chat.complete(provider, model, prompt);
    double cost = ai.costUsd(reply.model(), reply).orElse(0);
    log.atInfo()
        .addKeyValue("model", reply.model())
        .addKeyValue("provider", reply.provider())
        .addKeyValue("input_tokens", reply.inputTokens())
        .addKeyValue("output_tokens", reply.outputTokens())
        .addKeyValue("tokens", reply.inputTokens() + reply.outputTokens())
        .addKeyValue("cost", cost)
        .log("AI chat request completed");
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("model", reply.model());
    body.put("provider", reply.provider());
    body.put("input_tokens", reply.inputTokens());
    body.put("output_tokens", reply.outputTokens());
    body.put("cost", cost);
    body.put("completion", reply.text());
    return body;
  }

  @GetMapping("/users/{id}")
  public Map<String, Object> user(@PathVariable("id") String id) {
    metrics.recordUserActivity();
    return Map.of("id", id, "activity", "profile_view", "recorded", true);
  }

  @PostMapping("/jobs/{jobType}")
  public ResponseEntity<Map<String, String>> job(
      @PathVariable("jobType") String jobType,
      @RequestParam(name = "fail", defaultValue = "false") boolean fail) {
    metrics.recordJob(jobType, !fail);
    if (fail) {
      log.atWarn().addKeyValue("job_type", jobType).log("data processing job failed");
    } else {
      log.atInfo().addKeyValue("job_type", jobType).log("data processing job completed");
    }
    return ResponseEntity.status(HttpStatus.ACCEPTED)
        .body(Map.of("job_type", jobType, "status", "accepted"));
  }

  /** Fails: conea logs one error line for it, inside the request, and counts a 500. */
  @GetMapping("/fail")
  public Map<String, String> fail() {
    throw new IllegalStateException("simulated failure");
  }

  /** Answers after {@code ms} milliseconds (at most 10 s), asynchronously. */
  @GetMapping("/slow")
  public CompletableFuture<Map<String, Long>> slow(@RequestParam("ms") String ms) {
    long millis;
    try {
      millis = Long.parseLong(ms.trim());
    } catch (NumberFormatException e) {
      throw new ResponseStatusException(
          HttpStatus.BAD_REQUEST, "ms must be a whole number of milliseconds");
    }
    if (millis < 0) {
      throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "ms must not be negative");
    }
    long capped = Math.min(millis, MAX_SLOW_MILLIS);
    return CompletableFuture.supplyAsync(
        () -> Map.of("slept_ms", capped),
        CompletableFuture.delayedExecutor(capped, TimeUnit.MILLISECONDS));
  }

  private static String field(Map<String, Object> request, String name) {
    Object value = request.get(name);
    if (!(value instanceof String) || ((String) value).isBlank()) {
      throw new ResponseStatusException(
          HttpStatus.BAD_REQUEST, name + " must be a non-empty string");
    }
    if (((String) value).length() > MAX_FIELD_CHARS) {
      throw new ResponseStatusException(
          HttpStatus.BAD_REQUEST, name + " is longer than " + MAX_FIELD_CHARS + " characters");
    }
    return (String) value;
  }
}
