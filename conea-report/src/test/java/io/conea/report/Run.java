package io.conea.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** One in-process run of conea-report: its exit code and what it printed. */
record Run(int exitCode, String out, String err) {

  /** The instant every run evaluates at. */
  static final Instant NOW = Instant.parse("2025-05-26T10:30:00Z");

  private static final ObjectMapper JSON = new ObjectMapper();

  static Run of(Path workingDir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    int code =
        ConeaReport.run(
            List.of(args),
            new Context(outStream, errStream, workingDir, Clock.fixed(NOW, ZoneOffset.UTC)));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Run of(String... args) {
    return of(Path.of("").toAbsolutePath(), args);
  }

  /** stdout parsed as JSON. */
  JsonNode json() {
    try {
      return JSON.readTree(out);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + out, e);
    }
  }
}
