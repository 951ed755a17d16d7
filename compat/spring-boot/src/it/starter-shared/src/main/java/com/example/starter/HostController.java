package com.example.starter;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The routes the test calls; each answers with a status the application chose. */
@RestController
@RequestMapping("/api/v1")
public class HostController {

  private static final Logger log = LoggerFactory.getLogger(HostController.class);

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
