package io.conea.ai;

/**
 * A model client woven by the AspectJ compiler at build time (see the aspectj-maven-plugin's
 * test-compile execution in this module's pom), as a service without Spring would be: no proxy, so
 * non-public methods and calls from inside the object are recorded too.
 */
final class WovenChatClient {

  record Reply(long inputTokens, long outputTokens) implements AiUsage {}

  Reply ask(String prompt) {
    return answer(prompt);
  }

  @AiModelCall(provider = "openai", model = "gpt-4")
  private Reply answer(String prompt) {
    return new Reply(1250, 0);
  }

  @AiModelCall(provider = "openai", model = "gpt-4")
  Reply fail(Exception failure) throws Exception {
    throw failure;
  }

  @AiModelCall(provider = "openai")
  static Reply askStatic(@AiModel String model) {
    return new Reply(10, 10);
  }

  /** Annotated on the type: its public methods are calls, its private ones are not. */
  @AiModelCall(provider = "google", model = "gemini-1.5-pro")
  static final class Gemini {

    public Reply generate() {
      return helper();
    }

    private Reply helper() {
      return new Reply(1000, 1000);
    }
  }
}
