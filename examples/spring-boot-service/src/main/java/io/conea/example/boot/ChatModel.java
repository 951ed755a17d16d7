package io.conea.example.boot;

import io.conea.ai.AiModel;
import io.conea.ai.AiModelCall;
import io.conea.ai.AiProvider;
import io.conea.ai.AiUsage;
import java.nio.charset.StandardCharsets;
import org.springframework.stereotype.Component;

/**
 * A simulated chat model whose token counts follow from the prompt, so that the metrics are
 * reproducible without a provider. {@link AiModelCall} is all it takes for conea to record the
 * guide's AI meters, the cost and a span for every call.
 */
@Component
public class ChatModel {

  /** What the model answered; as an {@link AiUsage} it tells conea the call's tokens. */
  public record Reply(
      String model, String provider, long inputTokens, long outputTokens, String text)
      implements AiUsage {}

  /** Answers a prompt; about four bytes of prompt make one input token. */
  @AiModelCall
  public Reply complete(@AiProvider String provider, @AiModel String model, String prompt) {
    long inputTokens = Math.max(1, (prompt.getBytes(StandardCharsets.UTF_8).length + 3) / 4);
    long outputTokens = 16 + Math.floorMod(prompt.hashCode() * 31L + 7, 240);
    return new Reply(
        model,
        provider,
        inputTokens,
        outputTokens,
        "Simulated answer of " + outputTokens + " tokens.");
  }
}
