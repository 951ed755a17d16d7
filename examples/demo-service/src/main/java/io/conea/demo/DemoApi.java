package io.conea.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.Scrape;
import io.opentelemetry.context.Context;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The demo's API, independent of the server that received the request: Jetty and Netty both hand
 * every request to {@link #handle(ApiRequest)} and write back what it completes with.
 */
final class DemoApi {

  /** The route templates of the API, used as the {@code endpoint} label of the HTTP metrics. */
  static final List<String> ROUTES =
      List.of(
          "/api/v1/health",
          "/api/v1/ai/chat",
          "/api/v1/users/{id}",
          "/api/v1/jobs/{jobType}",
          "/api/v1/fail",
          "/api/v1/slow",
          "/metrics",
          "/debug/traces");

  static final long MAX_SLOW_MILLIS = 10_000;
  private static final int MAX_ID_LENGTH = 128;
  private static final String USERS = "/api/v1/users/";
  private static final String JOBS = "/api/v1/jobs/";

  private static final Logger log = LoggerFactory.getLogger(DemoApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ConeaMetrics metrics;
  private final PrometheusMetrics prometheus;
  private final ChatService chat;
  private final Supplier<String> traces;
  private final ScheduledExecutorService scheduler;

  DemoApi(
      ConeaMetrics metrics,
      PrometheusMetrics prometheus,
      ChatService chat,
      Supplier<String> traces,
      ScheduledExecutorService scheduler) {
    this.metrics = metrics;
    this.prometheus = prometheus;
    this.chat = chat;
    this.traces = traces;
    this.scheduler = scheduler;
  }

  /** Answers one request; the future completes on this thread or, for delayed answers, later. */
  CompletableFuture<ApiResponse> handle(ApiRequest request) {
    try {
      return route(request);
    } catch (RuntimeException e) {
      serverError("request failed", e);
      return done(error(500, "internal error"));
    }
  }

  private CompletableFuture<ApiResponse> route(ApiRequest request) {
    String method = request.method();
    String path = request.path();
    boolean get = "GET".equals(method);
    boolean post = "POST".equals(method);
    if (get && path.equals("/api/v1/health")) {
      return done(ApiResponse.json(200, "{\"status\":\"ok\"}"));
    }
    if (post && path.equals("/api/v1/ai/chat")) {
      return chat(request);
    }
    if (get && path.startsWith(USERS) && isSegment(path, USERS.length())) {
      return user(path.substring(USERS.length()));
    }
    if (post && path.startsWith(JOBS) && isSegment(path, JOBS.length())) {
      return job(
          path.substring(JOBS.length()), "true".equalsIgnoreCase(request.query().get("fail")));
    }
    if (get && path.equals("/api/v1/fail")) {
      serverError("simulated failure", null);
      return done(error(500, "simulated failure"));
    }
    if (get && path.equals("/api/v1/slow")) {
      return slow(request.query().get("ms"));
    }
    if (get && path.equals("/metrics")) {
      return done(metrics(request));
    }
    if (get && path.equals("/debug/traces")) {
      return done(ApiResponse.json(200, traces.get()));
    }
    return done(error(404, "no route for " + method + " " + path));
  }

  /**
   * Logs a request answered with 500 at error level, with the status, so that the guide's LogQL
   * query for 5xx errors finds it.
   */
  private static void serverError(String message, Throwable failure) {
    log.atError().addKeyValue("status", 500).setCause(failure).log(message);
  }

  private static boolean isSegment(String path, int start) {
    int length = path.length() - start;
    return length > 0 && length <= MAX_ID_LENGTH && path.indexOf('/', start) < 0;
  }

  private CompletableFuture<ApiResponse> chat(ApiRequest request) {
    ChatService.Prompt prompt;
    try {
      prompt = ChatService.Prompt.parse(JSON.readTree(request.body()));
    } catch (JsonProcessingException e) {
      return done(error(400, "malformed JSON" + at(e)));
    } catch (java.io.IOException | IllegalArgumentException e) {
      return done(error(400, e.getMessage()));
    }
    long started = System.nanoTime();
    CompletableFuture<ChatService.Reply> reply;
    try {
      reply = chat.complete(prompt.provider(), prompt.model(), prompt.text());
    } catch (RuntimeException e) {
      serverError("request failed", e);
      return done(error(500, "internal error"));
    }
    return reply.handle(
        (answer, failure) -> {
          if (failure != null) {
            serverError("request failed", failure);
            return error(500, "internal error");
          }
          return chatCompleted(answer, started);
        });
  }

  private static String at(JsonProcessingException e) {
    return e.getLocation() == null
        ? ""
        : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  private ApiResponse chatCompleted(ChatService.Reply reply, long started) {
    long durationMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    double cost = chat.costUsd(reply);
    log.atInfo()
        .addKeyValue("status", 200)
        .addKeyValue("duration_ms", durationMs)
        .addKeyValue("model", reply.model())
        .addKeyValue("provider", reply.provider())
        .addKeyValue("input_tokens", reply.inputTokens())
        .addKeyValue("output_tokens", reply.outputTokens())
        .addKeyValue("tokens", reply.inputTokens() + reply.outputTokens())
        .addKeyValue("cost", cost)
        .log("AI chat request completed");
    ObjectNode body = JSON.createObjectNode();
    body.put("model", reply.model());
    body.put("provider", reply.provider());
    body.put("input_tokens", reply.inputTokens());
    body.put("output_tokens", reply.outputTokens());
    body.put("cost", cost);
    body.put("completion", reply.text());
    return ApiResponse.json(200, body.toString());
  }

  private CompletableFuture<ApiResponse> user(String id) {
    metrics.recordUserActivity();
    ObjectNode body = JSON.createObjectNode();
    body.put("id", id);
    body.put("activity", "profile_view");
    body.put("recorded", true);
    return done(ApiResponse.json(200, body.toString()));
  }

  private CompletableFuture<ApiResponse> job(String jobType, boolean fail) {
    // The job runs after the response, as a queued data-processing job would.
    scheduler.schedule(
        wrap(
            () -> {
              metrics.recordJob(jobType, !fail);
              if (fail) {
                log.atWarn().addKeyValue("job_type", jobType).log("data processing job failed");
              } else {
                log.atInfo().addKeyValue("job_type", jobType).log("data processing job completed");
              }
            }),
        20,
        TimeUnit.MILLISECONDS);
    ObjectNode body = JSON.createObjectNode();
    body.put("job_type", jobType);
    body.put("status", "accepted");
    return done(ApiResponse.json(202, body.toString()));
  }

  private CompletableFuture<ApiResponse> slow(String ms) {
    long millis;
    try {
      millis = Long.parseLong(ms == null ? "" : ms.trim());
    } catch (NumberFormatException e) {
      return done(error(400, "ms must be a whole number of milliseconds"));
    }
    if (millis < 0) {
      return done(error(400, "ms must not be negative"));
    }
    long capped = Math.min(millis, MAX_SLOW_MILLIS);
    return later(
        capped,
        () -> {
          ObjectNode body = JSON.createObjectNode();
          body.put("slept_ms", capped);
          return ApiResponse.json(200, body.toString());
        });
  }

  private ApiResponse metrics(ApiRequest request) {
    Scrape scrape =
        prometheus.scrape(
            request.headers().apply("Accept"), request.headers().apply("Accept-Encoding"));
    return new ApiResponse(
        scrape.status(), scrape.contentType(), scrape.contentEncoding(), scrape.body());
  }

  private CompletableFuture<ApiResponse> later(long millis, Supplier<ApiResponse> answer) {
    CompletableFuture<ApiResponse> future = new CompletableFuture<>();
    Runnable task =
        wrap(
            () -> {
              try {
                future.complete(answer.get());
              } catch (RuntimeException e) {
                serverError("request failed", e);
                future.complete(error(500, "internal error"));
              }
            });
    scheduler.schedule(task, millis, TimeUnit.MILLISECONDS);
    return future;
  }

  /** Carries the caller's trace context and MDC to the thread that runs the task. */
  static Runnable wrap(Runnable task) {
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    Runnable traced = Context.current().wrap(task);
    return () -> {
      Map<String, String> previous = MDC.getCopyOfContextMap();
      if (mdc == null) {
        MDC.clear();
      } else {
        MDC.setContextMap(mdc);
      }
      try {
        traced.run();
      } finally {
        if (previous == null) {
          MDC.clear();
        } else {
          MDC.setContextMap(previous);
        }
      }
    };
  }

  private static CompletableFuture<ApiResponse> done(ApiResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  static ApiResponse error(int status, String message) {
    ObjectNode body = JSON.createObjectNode();
    body.put("error", message);
    body.put("status", status);
    return ApiResponse.json(status, body.toString());
  }
}
