package io.conea.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.conea.ai.AiCalls;
import io.conea.ai.AiModel;
import io.conea.ai.AiModelCall;
import io.conea.ai.AiProvider;
import io.conea.ai.AiUsage;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A simulated AI chat model: token counts and latency follow deterministically from the prompt, so
 * the demo's metrics and logs are reproducible without calling a real provider.
 *
 * <p>{@link #complete} is the model call: it is annotated {@link AiModelCall}, woven at compile
 * time, so conea records the guide's AI metrics, cost and span for every answer.
 */
final class ChatService {

  static final int MAX_PROMPT_CHARS = 32_768;
  private static final int MAX_NAME_CHARS = 64;

  private final AiCalls ai;
  private final ScheduledExecutorService scheduler;

  ChatService(AiCalls ai, ScheduledExecutorService scheduler) {
    this.ai = ai;
    this.scheduler = scheduler;
  }

  /** A validated chat request. */
  record Prompt(String model, String provider, String text) {

    static Prompt parse(JsonNode json) {
      if (json == null || !json.isObject()) {
        throw new IllegalArgumentException("request body must be a JSON object");
      }
      return new Prompt(
          field(json, "model", MAX_NAME_CHARS),
          field(json, "provider", MAX_NAME_CHARS),
          field(json, "prompt", MAX_PROMPT_CHARS));
    }

    private static String field(JsonNode json, String name, int maxChars) {
      JsonNode value = json.get(name);
      if (value == null || value.isNull()) {
        throw new IllegalArgumentException("missing field: " + name);
      }
      if (!value.isTextual() || value.asText().isBlank()) {
        throw new IllegalArgumentException(name + " must be a non-empty string");
      }
      if (value.asText().length() > maxChars) {
        throw new IllegalArgumentException(name + " is longer than " + maxChars + " characters");
      }
      return value.asText();
    }
  }

  /** What the model answered; as an {@link AiUsage} it tells conea the call's tokens. */
  record Reply(String model, String provider, long inputTokens, long outputTokens, String text)
      implements AiUsage {}

  /** The simulated time to answer: 20 to 120 ms, fixed for a given prompt. */
  long latencyMillis(String prompt) {
    return 20 + Math.floorMod(prompt.hashCode(), 101);
  }

  /**
   * Answers the prompt after the simulated latency, as a provider's asynchronous client would; the
   * call is recorded when the answer arrives. About four bytes of prompt make one input token, as
   * common tokenizers do.
   */
  @AiModelCall
  CompletableFuture<Reply> complete(
      @AiProvider String provider, @AiModel String model, String prompt) {
    CompletableFuture<Reply> reply = new CompletableFuture<>();
    scheduler.schedule(
        DemoApi.wrap(() -> reply.complete(answer(provider, model, prompt))),
        latencyMillis(prompt),
        TimeUnit.MILLISECONDS);
    return reply;
  }

  /**
   * The price of a reply in US dollars, as conea recorded it in {@code ai_cost_usd_total}; 0 for a
   * model without a price.
   */
  double costUsd(Reply reply) {
    return round(ai.costUsd(reply.model(), reply).orElse(0));
  }

  private static Reply answer(String provider, String model, String prompt) {
    long inputTokens = Math.max(1, (prompt.getBytes(StandardCharsets.UTF_8).length + 3) / 4);
    long outputTokens = 16 + Math.floorMod(prompt.hashCode() * 31L + 7, 240);
    return new Reply(
        model,
        provider,
        inputTokens,
        outputTokens,
        "Simulated answer of " + outputTokens + " tokens.");
  }

  private static double round(double usd) {
    return BigDecimal.valueOf(usd).setScale(8, RoundingMode.HALF_UP).doubleValue();
  }
}
