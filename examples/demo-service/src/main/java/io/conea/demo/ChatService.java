package io.conea.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A simulated AI chat model: token counts and latency follow deterministically from the prompt, so
 * the demo's metrics and logs are reproducible without calling a real provider.
 */
final class ChatService {

  static final int MAX_PROMPT_CHARS = 32_768;
  private static final int MAX_NAME_CHARS = 64;

  /** USD per 1,000 tokens, input and output, for the models the demo knows. */
  private static final Map<String, double[]> PRICES_PER_1K =
      Map.of(
          "gpt-4", new double[] {0.03, 0.06},
          "gpt-4o", new double[] {0.0025, 0.01},
          "gpt-4o-mini", new double[] {0.00015, 0.0006},
          "claude-3-5-sonnet", new double[] {0.003, 0.015},
          "claude-3-haiku", new double[] {0.00025, 0.00125},
          "gemini-1.5-pro", new double[] {0.00125, 0.005});

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

  /** What the model answered, with its usage and price. */
  record Reply(
      String model,
      String provider,
      long inputTokens,
      long outputTokens,
      double costUsd,
      String text) {}

  /** The simulated time to answer: 20 to 120 ms, fixed for a given prompt. */
  long latencyMillis(Prompt prompt) {
    return 20 + Math.floorMod(prompt.text().hashCode(), 101);
  }

  /** Answers the prompt: about four bytes of prompt per input token, as common tokenizers do. */
  Reply complete(Prompt prompt) {
    long inputTokens = Math.max(1, (prompt.text().getBytes(StandardCharsets.UTF_8).length + 3) / 4);
    long outputTokens = 16 + Math.floorMod(prompt.text().hashCode() * 31L + 7, 240);
    double[] price = PRICES_PER_1K.get(prompt.model());
    double cost =
        price == null ? 0 : round((inputTokens * price[0] + outputTokens * price[1]) / 1000);
    return new Reply(
        prompt.model(),
        prompt.provider(),
        inputTokens,
        outputTokens,
        cost,
        "Simulated answer of " + outputTokens + " tokens.");
  }

  private static double round(double usd) {
    return BigDecimal.valueOf(usd).setScale(8, RoundingMode.HALF_UP).doubleValue();
  }
}
