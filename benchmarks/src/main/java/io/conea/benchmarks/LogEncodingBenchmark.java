package io.conea.benchmarks;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import io.conea.logging.ConeaJsonEncoder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.KeyValuePair;

/**
 * Encoding the monitoring guide's example log event as one JSON line: MDC {@code trace_id}, {@code
 * span_id}, {@code user_id}, {@code organization_id}, {@code method}, {@code path}; key-values
 * {@code status=200}, {@code duration_ms=245}, {@code model=gpt-4}, {@code tokens=1250}, {@code
 * cost=0.0375}; message "AI chat request completed".
 *
 * <p>conea's {@link ConeaJsonEncoder} against logstash-logback-encoder's {@link LogstashEncoder}
 * (as shipped, and trimmed to the guide's fields) and Logback's own {@link JsonEncoder} (as
 * shipped). The event is built once, in a real {@link LoggerContext}, and encoded on every
 * operation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LogEncodingBenchmark {

  /** The event and the started encoders. */
  @State(Scope.Benchmark)
  public static class Encoders {
    ILoggingEvent event;
    ConeaJsonEncoder conea;
    LogstashEncoder logstash;
    LogstashEncoder logstashTrimmed;
    JsonEncoder logback;

    @Setup(Level.Trial)
    public void setUp() {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      event = guideEvent(context);
      conea = coneaEncoder(context);
      logstash = logstashEncoder(context, false);
      logstashTrimmed = logstashEncoder(context, true);
      logback = logbackEncoder(context);
      for (Map.Entry<String, byte[]> line : sampleLines(this).entrySet()) {
        Checks.check(
            new String(line.getValue(), java.nio.charset.StandardCharsets.UTF_8)
                .contains("AI chat request completed"),
            line.getKey() + " wrote no message: " + new String(line.getValue()));
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      conea.stop();
      logstash.stop();
      logstashTrimmed.stop();
      logback.stop();
    }
  }

  /** conea. */
  @Benchmark
  public byte[] conea(Encoders encoders) {
    return encoders.conea.encode(encoders.event);
  }

  /** logstash-logback-encoder with its default fields. */
  @Benchmark
  public byte[] logstash(Encoders encoders) {
    return encoders.logstash.encode(encoders.event);
  }

  /**
   * logstash-logback-encoder without the fields the guide's schema lacks ({@code @version}, {@code
   * level_value}, {@code logger_name}, {@code thread_name}).
   */
  @Benchmark
  public byte[] logstashTrimmed(Encoders encoders) {
    return encoders.logstashTrimmed.encode(encoders.event);
  }

  /** Logback's own JSON encoder with its default fields. */
  @Benchmark
  public byte[] logbackJsonEncoder(Encoders encoders) {
    return encoders.logback.encode(encoders.event);
  }

  /** The guide's example event, with the MDC captured and the message formatted once. */
  static ILoggingEvent guideEvent(LoggerContext context) {
    Logger logger = context.getLogger("io.conea.demo.ChatHandler");
    MDC.put("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
    MDC.put("span_id", "00f067aa0ba902b7");
    MDC.put("user_id", "user_123");
    MDC.put("organization_id", "org_456");
    MDC.put("method", "POST");
    MDC.put("path", "/api/v1/ai/chat");
    try {
      LoggingEvent event =
          new LoggingEvent(
              Logger.class.getName(),
              logger,
              ch.qos.logback.classic.Level.INFO,
              "AI chat request completed",
              null,
              null);
      event.addKeyValuePair(new KeyValuePair("status", 200));
      event.addKeyValuePair(new KeyValuePair("duration_ms", 245));
      event.addKeyValuePair(new KeyValuePair("model", "gpt-4"));
      event.addKeyValuePair(new KeyValuePair("tokens", 1250));
      event.addKeyValuePair(new KeyValuePair("cost", 0.0375));
      event.getMDCPropertyMap();
      event.getFormattedMessage();
      return event;
    } finally {
      MDC.clear();
    }
  }

  static ConeaJsonEncoder coneaEncoder(LoggerContext context) {
    ConeaJsonEncoder encoder = new ConeaJsonEncoder();
    encoder.setContext(context);
    encoder.setService("conea-api");
    return started(encoder);
  }

  static LogstashEncoder logstashEncoder(LoggerContext context, boolean trimmed) {
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    if (trimmed) {
      LogstashFieldNames names = new LogstashFieldNames();
      names.setVersion("[ignore]");
      names.setLevelValue("[ignore]");
      names.setLogger("[ignore]");
      names.setThread("[ignore]");
      encoder.setFieldNames(names);
    }
    return started(encoder);
  }

  static JsonEncoder logbackEncoder(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    return started(encoder);
  }

  private static <E extends Encoder<ILoggingEvent>> E started(E encoder) {
    encoder.start();
    Checks.check(encoder.isStarted(), encoder.getClass().getName() + " did not start");
    return encoder;
  }

  /** One line from each encoder, by benchmark name, for checks and for RESULTS.md. */
  static Map<String, byte[]> sampleLines(Encoders encoders) {
    Map<String, byte[]> lines = new LinkedHashMap<>();
    lines.put("conea", encoders.conea.encode(encoders.event));
    lines.put("logstash", encoders.logstash.encode(encoders.event));
    lines.put("logstashTrimmed", encoders.logstashTrimmed.encode(encoders.event));
    lines.put("logbackJsonEncoder", encoders.logback.encode(encoders.event));
    return lines;
  }

  /** Sets up the encoders outside JMH and returns one line from each. */
  static Map<String, byte[]> sampleLines() {
    Encoders encoders = new Encoders();
    encoders.setUp();
    try {
      return sampleLines(encoders);
    } finally {
      encoders.tearDown();
    }
  }
}
