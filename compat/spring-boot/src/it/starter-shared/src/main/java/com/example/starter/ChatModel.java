package com.example.starter;

import io.conea.ai.AiModel;
import io.conea.ai.AiModelCall;
import io.conea.ai.AiProvider;
import io.conea.ai.AiUsage;
import org.springframework.stereotype.Component;

/** A model call that conea records because of its annotation alone: no bean is declared for it. */
@Component
public class ChatModel {

  /** The tokens of a reply, as the test expects them. */
  public record Reply(String model, long inputTokens, long outputTokens) implements AiUsage {}

  @AiModelCall
  public Reply complete(@AiProvider String provider, @AiModel String model, String prompt) {
    return new Reply(model, prompt.length(), 2L * prompt.length());
  }
}
