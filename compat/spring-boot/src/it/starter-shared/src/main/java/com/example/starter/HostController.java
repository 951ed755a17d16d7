package com.example.starter;

import io.conea.ai.AiCalls;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The routes the test calls; each answers with a status the application chose. */
@RestController
@RequestMapping("/api/v1")
public class HostController {

  private static final Logger log = LoggerFactory.getLogger(HostController.class);

  private final ChatModel chat;
  private final AiCalls ai;

  public HostController(ChatModel chat, AiCalls ai) {
    this.chat = chat;
    this.ai = ai;
  }

  /** An AI call: the answer carries the cost conea recorded for it, from the injected recorder. */
  @PostMapping("/ai/chat")
  public Map<String, Object> chat(
      @RequestParam("provider") String provider,
      @RequestParam("model") String model,
      @RequestParam("prompt") String prompt) {
    ChatModel.Reply reply = chat.complete(provider, model, prompt);
    return Map.of(
        "input_tokens", reply.inputTokens(),
        "output_tokens", reply.outputTokens(),
        "cost", ai.costUsd(model, reply).orElse(-1));
  }

  @GetMapping("/users/{id}")
  public Map<String, String> user(@PathVariable("id") String id) {
    return Map.of("id", id);
  }

  @PostMapping("/items")
  public ResponseEntity<Map<String, String>> createItem() {
    return ResponseEntity.status(201).body(Map.of("id", "item-1"));
  }

  @GetMapping("/teapot")
  public ResponseEntity<String> teapot() {
    return ResponseEntity.status(418).body("I'm a teapot");
  }

  /** Not handled by the application: Boot answers 500. */
  @GetMapping("/boom")
  public String boom() {
    throw new IllegalStateException("boom");
  }

  @GetMapping("/logerror")
  public String logError() {
    log.error("failed", new IllegalArgumentException("bad input"));
    return "logged";
  }
}
