package io.conea.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Encodes one event; run by {@link ConeaJsonEncoderTest} in a class loader that has Logback and
 * this library but not opentelemetry-api, so it refers to nothing else.
 */
public final class NoOpenTelemetryProbe {

  private NoOpenTelemetryProbe() {}

  /** Returns whether the span API could be loaded here, and the encoded line. */
  public static String[] encode() {
    String api;
    try {
      Class.forName("io.opentelemetry.api.trace.Span");
      api = "present";
    } catch (ClassNotFoundException e) {
      api = "absent";
    }
    LoggerContext context = new LoggerContext();
    ConeaJsonEncoder encoder = new ConeaJsonEncoder();
    encoder.setContext(context);
    encoder.start();
    LoggingEvent event =
        new LoggingEvent(
            NoOpenTelemetryProbe.class.getName(),
            context.getLogger("probe"),
            Level.INFO,
            "no span api",
            null,
            null);
    event.setMDCPropertyMap(Map.of("trace_id", "mdc-trace", "span_id", "mdc-span"));
    byte[] line = encoder.encode(event);
    return new String[] {api, new String(line, StandardCharsets.UTF_8)};
  }
}
