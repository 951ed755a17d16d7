package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;
import org.slf4j.event.KeyValuePair;

class ConeaJsonEncoderTest {

  private static final String MARKER = JsonWriter.MARKER;

  private static JsonNode encodeOne(Consumer<ConeaJsonEncoder> configuration, ILoggingEvent e) {
    try (LogCapture capture = LogCapture.create(configuration)) {
      return LogCapture.checkLine(capture.encoder.encode(e));
    }
  }

  private static LoggingEvent event(LoggerContext context, Level level, String message) {
    return event(context, level, message, new HashMap<>());
  }

  private static LoggingEvent event(
      LoggerContext context, Level level, String message, Map<String, String> mdc) {
    LoggingEvent event =
        new LoggingEvent(
            ConeaJsonEncoderTest.class.getName(),
            context.getLogger("io.conea.test.Events"),
            level,
            message,
            null,
            null);
    event.setMDCPropertyMap(mdc);
    return event;
  }

  @Nested
  class GuideSchema {

    @Test
    void reproducesTheGuideExampleFieldForFieldInTheGuideOrder() throws IOException {
      JsonNode guide;
      try (InputStream in =
          ConeaJsonEncoderTest.class.getResourceAsStream("guide-log-example.json")) {
        guide = LogCapture.STRICT_JSON.readTree(in);
      }
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setService("conea-api"))) {
        MDC.put("trace_id", "abc123def456");
        MDC.put("span_id", "789ghi012");
        MDC.put("user_id", "user_123");
        MDC.put("organization_id", "org_456");
        MDC.put("method", "POST");
        MDC.put("path", "/api/v1/ai/chat");
        MDC.put("status", "200");
        MDC.put("duration_ms", "245");
        long before = System.currentTimeMillis();
        capture
            .logger
            .atInfo()
            .addKeyValue("model", "gpt-4")
            .addKeyValue("tokens", 1250)
            .addKeyValue("cost", 0.0375)
            .log("AI chat request completed");
        long after = System.currentTimeMillis();

        JsonNode line = capture.single();
        Instant timestamp = Instant.parse(line.get("timestamp").asText());
        assertThat(timestamp.toEpochMilli()).isBetween(before, after);
        assertThat(line.get("timestamp").asText())
            .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");

        ((com.fasterxml.jackson.databind.node.ObjectNode) line)
            .put("timestamp", guide.get("timestamp").asText());
        assertThat(line).isEqualTo(guide);
        assertThat(LogCapture.fieldNames(line))
            .containsExactlyElementsOf(LogCapture.fieldNames(guide));
        assertThat(LogCapture.fieldNames(line.get("metadata")))
            .containsExactly("model", "tokens", "cost");
        assertThat(line.get("status").isIntegralNumber()).isTrue();
        assertThat(line.get("duration_ms").isIntegralNumber()).isTrue();
        assertThat(line.get("metadata").get("tokens").isIntegralNumber()).isTrue();
        assertThat(line.get("metadata").get("cost").isNumber()).isTrue();
      }
    }

    @Test
    void writesTheWholeGuideLineByteForByteForAFixedInstant() {
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setService("conea-api"))) {
        Map<String, String> mdc = new HashMap<>();
        mdc.put("trace_id", "abc123def456");
        mdc.put("span_id", "789ghi012");
        mdc.put("user_id", "user_123");
        mdc.put("organization_id", "org_456");
        mdc.put("method", "POST");
        mdc.put("path", "/api/v1/ai/chat");
        LoggingEvent event = event(capture.context, Level.INFO, "AI chat request completed", mdc);
        event.setInstant(Instant.parse("2025-05-26T10:30:45.123Z"));
        event.addKeyValuePair(new KeyValuePair("status", 200));
        event.addKeyValuePair(new KeyValuePair("duration_ms", 245L));
        event.addKeyValuePair(new KeyValuePair("model", "gpt-4"));
        event.addKeyValuePair(new KeyValuePair("tokens", 1250));
        event.addKeyValuePair(new KeyValuePair("cost", 0.0375));

        String line = new String(capture.encoder.encode(event), StandardCharsets.UTF_8);

        assertThat(line)
            .isEqualTo(
                "{\"timestamp\":\"2025-05-26T10:30:45.123Z\",\"level\":\"info\","
                    + "\"service\":\"conea-api\",\"trace_id\":\"abc123def456\","
                    + "\"span_id\":\"789ghi012\",\"user_id\":\"user_123\","
                    + "\"organization_id\":\"org_456\",\"method\":\"POST\","
                    + "\"path\":\"/api/v1/ai/chat\",\"status\":200,\"duration_ms\":245,"
                    + "\"message\":\"AI chat request completed\","
                    + "\"metadata\":{\"model\":\"gpt-4\",\"tokens\":1250,\"cost\":0.0375}}\n");
      }
    }

    @Test
    void leavesOutAbsentFieldsInsteadOfWritingNull() {
      try (LogCapture capture = LogCapture.create()) {
        capture.logger.atInfo().addKeyValue("nothing", (Object) null).log("plain");
        JsonNode line = capture.single();
        assertThat(LogCapture.fieldNames(line)).containsExactly("timestamp", "level", "message");
      }
    }

    @Test
    void writesTheTimestampInUtcWithMillisecondsAcrossSecondsAndDates() {
      DateTimeFormatter expected =
          DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
      long[] instants = {
        0L,
        999L,
        1000L,
        1_748_255_445_123L,
        1_748_255_445_999L,
        1_748_255_446_000L,
        951_782_399_999L, // 2000-02-28T23:59:59.999Z, then the leap day
        951_782_400_000L,
        -1L,
        253_402_300_799_999L // 9999-12-31T23:59:59.999Z
      };
      try (LogCapture capture = LogCapture.create()) {
        for (long millis : instants) {
          LoggingEvent event = event(capture.context, Level.INFO, "t");
          event.setInstant(Instant.ofEpochMilli(millis));
          JsonNode line = LogCapture.checkLine(capture.encoder.encode(event));
          assertThat(line.get("timestamp").asText())
              .as("epoch millis %d", millis)
              .isEqualTo(expected.format(Instant.ofEpochMilli(millis)));
        }
      }
    }

    @Test
    void writesEveryLevelInLowerCase() {
      try (LogCapture capture = LogCapture.create()) {
        capture.logger.trace("t");
        capture.logger.debug("d");
        capture.logger.info("i");
        capture.logger.warn("w");
        capture.logger.error("e");
        assertThat(capture.lines())
            .extracting(line -> line.get("level").asText())
            .containsExactly("trace", "debug", "info", "warn", "error");
      }
    }

    @Test
    void endsEveryEventWithOneNewlineAndHasNoHeaderOrFooter() {
      try (LogCapture capture = LogCapture.create()) {
        capture.logger.info("one");
        capture.logger.info("two");
        assertThat(capture.rawLines()).hasSize(2);
        assertThat(capture.encoder.headerBytes()).isNull();
        assertThat(capture.encoder.footerBytes()).isNull();
      }
    }
  }

  @Nested
  class Sources {

    @Test
    void takesRequestFieldsFromKeyValuePairsBeforeTheMdc() {
      try (LogCapture capture = LogCapture.create()) {
        MDC.put("user_id", "from_mdc");
        MDC.put("status", "500");
        capture
            .logger
            .atInfo()
            .addKeyValue("user_id", "from_pair")
            .addKeyValue("organization_id", "org_1")
            .addKeyValue("method", "GET")
            .addKeyValue("path", "/p")
            .addKeyValue("status", 201)
            .addKeyValue("duration_ms", 12.5)
            .log("m");
        JsonNode line = capture.single();
        assertThat(line.get("user_id").asText()).isEqualTo("from_pair");
        assertThat(line.get("organization_id").asText()).isEqualTo("org_1");
        assertThat(line.get("method").asText()).isEqualTo("GET");
        assertThat(line.get("path").asText()).isEqualTo("/p");
        assertThat(line.get("status").isIntegralNumber()).isTrue();
        assertThat(line.get("status").asInt()).isEqualTo(201);
        assertThat(line.get("duration_ms").isFloatingPointNumber()).isTrue();
        assertThat(line.get("duration_ms").asDouble()).isEqualTo(12.5);
        assertThat(line.has("metadata")).as("request fields never reach metadata").isFalse();
      }
    }

    @Test
    void turnsMdcDigitsIntoNumbersAndKeepsOtherTextAsStrings() {
      try (LogCapture capture = LogCapture.create()) {
        MDC.put("status", "503");
        MDC.put("duration_ms", "1500");
        capture.logger.info("numbers");
        MDC.put("status", "5xx");
        MDC.put("duration_ms", "0012");
        capture.logger.info("not numbers");
        List<JsonNode> lines = capture.lines();
        assertThat(lines.get(0).get("status").isIntegralNumber()).isTrue();
        assertThat(lines.get(0).get("status").asInt()).isEqualTo(503);
        assertThat(lines.get(0).get("duration_ms").asLong()).isEqualTo(1500);
        assertThat(lines.get(1).get("status").isTextual()).isTrue();
        assertThat(lines.get(1).get("status").asText()).isEqualTo("5xx");
        assertThat(lines.get(1).get("duration_ms").asText()).isEqualTo("0012");
      }
    }

    @Test
    void keepsNumbersAndBooleansTypedInMetadataAndWritesOtherValuesAsText() {
      try (LogCapture capture = LogCapture.create()) {
        capture
            .logger
            .atInfo()
            .addKeyValue("int", 7)
            .addKeyValue("long", Long.MIN_VALUE)
            .addKeyValue("short", (short) -3)
            .addKeyValue("double", 1.0E20)
            .addKeyValue("float", 0.5f)
            .addKeyValue("big", new BigDecimal("12345678901234567890.5"))
            .addKeyValue("bigint", new BigInteger("123456789012345678901234567890"))
            .addKeyValue("nan", Double.NaN)
            .addKeyValue("flag", true)
            .addKeyValue("digits", "1250")
            .addKeyValue("object", List.of(1, 2))
            .log("types");
        String raw = new String(capture.rawLines().get(0), StandardCharsets.UTF_8);
        assertThat(raw)
            .contains("\"big\":12345678901234567890.5,")
            .contains("\"bigint\":123456789012345678901234567890,");
        JsonNode metadata = capture.single().get("metadata");
        assertThat(metadata.get("int").asInt()).isEqualTo(7);
        assertThat(metadata.get("long").asLong()).isEqualTo(Long.MIN_VALUE);
        assertThat(metadata.get("short").asInt()).isEqualTo(-3);
        assertThat(metadata.get("double").isNumber()).isTrue();
        assertThat(metadata.get("double").asDouble()).isEqualTo(1.0E20);
        assertThat(metadata.get("float").asDouble()).isEqualTo(0.5);
        assertThat(metadata.get("big").isNumber()).isTrue();
        assertThat(metadata.get("bigint").bigIntegerValue())
            .isEqualTo(new BigInteger("123456789012345678901234567890"));
        assertThat(metadata.get("nan").isTextual()).isTrue();
        assertThat(metadata.get("nan").asText()).isEqualTo("NaN");
        assertThat(metadata.get("flag").isBoolean()).isTrue();
        assertThat(metadata.get("digits").isTextual()).as("strings stay strings").isTrue();
        assertThat(metadata.get("object").asText()).isEqualTo("[1, 2]");
      }
    }

    @Test
    void addsConfiguredMdcKeysToMetadataAfterTheKeyValuePairs() {
      try (LogCapture capture =
          LogCapture.create(encoder -> encoder.setIncludeMdcKeys(" tenant , region,absent "))) {
        MDC.put("tenant", "acme");
        MDC.put("region", "eu");
        MDC.put("other", "not listed");
        capture.logger.atInfo().addKeyValue("model", "gpt-4").log("m");
        JsonNode metadata = capture.single().get("metadata");
        assertThat(LogCapture.fieldNames(metadata)).containsExactly("model", "tenant", "region");
        assertThat(metadata.get("tenant").asText()).isEqualTo("acme");
      }
    }

    @Test
    void takesTheServiceFromSettingThenSystemPropertyThenEnvironment() {
      LoggerContext context = new LoggerContext();
      LoggingEvent event = event(context, Level.INFO, "m");
      String previous = System.getProperty(ConeaJsonEncoder.SERVICE_PROPERTY);
      try {
        System.setProperty(ConeaJsonEncoder.SERVICE_PROPERTY, "from-property");
        Map<String, String> env = Map.of(ConeaJsonEncoder.SERVICE_ENV, "from-env");
        ConeaJsonEncoder configured = new ConeaJsonEncoder(env::get);
        configured.setService("configured");
        assertThat(service(configured, event)).isEqualTo("configured");
        assertThat(service(new ConeaJsonEncoder(env::get), event)).isEqualTo("from-property");
        ConeaJsonEncoder blank = new ConeaJsonEncoder(name -> " ");
        blank.setService("");
        assertThat(service(blank, event)).isEqualTo("from-property");
        System.clearProperty(ConeaJsonEncoder.SERVICE_PROPERTY);
        assertThat(service(new ConeaJsonEncoder(env::get), event)).isEqualTo("from-env");
        assertThat(service(new ConeaJsonEncoder(name -> null), event)).isNull();
      } finally {
        if (previous == null) {
          System.clearProperty(ConeaJsonEncoder.SERVICE_PROPERTY);
        } else {
          System.setProperty(ConeaJsonEncoder.SERVICE_PROPERTY, previous);
        }
      }
    }

    private String service(ConeaJsonEncoder encoder, ILoggingEvent event) {
      try (LogCapture capture = LogCapture.create(encoder, e -> {})) {
        JsonNode line = LogCapture.checkLine(capture.encoder.encode(event));
        return line.has("service") ? line.get("service").asText() : null;
      }
    }

    @Test
    void usesTheCurrentSpanIdsOverTheMdc() {
      try (LogCapture capture = LogCapture.create()) {
        MDC.put("trace_id", "mdc-trace");
        MDC.put("span_id", "mdc-span");
        Span span =
            Span.wrap(
                SpanContext.create(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    "00f067aa0ba902b7",
                    TraceFlags.getSampled(),
                    TraceState.getDefault()));
        Scope scope = span.makeCurrent();
        try {
          capture.logger.info("inside span");
        } finally {
          scope.close();
        }
        capture.logger.info("outside span");
        List<JsonNode> lines = capture.lines();
        assertThat(lines.get(0).get("trace_id").asText())
            .isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(lines.get(0).get("span_id").asText()).isEqualTo("00f067aa0ba902b7");
        assertThat(lines.get(1).get("trace_id").asText()).isEqualTo("mdc-trace");
        assertThat(lines.get(1).get("span_id").asText()).isEqualTo("mdc-span");
      }
    }

    @Test
    void fallsBackToTheMdcWhenTheCurrentSpanIsInvalid() {
      try (LogCapture capture = LogCapture.create()) {
        MDC.put("trace_id", "mdc-trace");
        Scope scope = Span.getInvalid().makeCurrent();
        try {
          capture.logger.info("invalid span");
        } finally {
          scope.close();
        }
        JsonNode line = capture.single();
        assertThat(line.get("trace_id").asText()).isEqualTo("mdc-trace");
        assertThat(line.has("span_id")).isFalse();
      }
    }

    @Test
    void encodesWithoutOpenTelemetryOnTheClassPath() throws Exception {
      URL[] urls = {
        location(ConeaJsonEncoder.class),
        location(NoOpenTelemetryProbe.class),
        location(LoggerContext.class),
        location(ch.qos.logback.core.Context.class),
        location(org.slf4j.Logger.class)
      };
      try (URLClassLoader isolated =
          new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
        Class<?> probe = isolated.loadClass(NoOpenTelemetryProbe.class.getName());
        assertThat(probe.getClassLoader()).isSameAs(isolated);
        Object result = probe.getMethod("encode").invoke(null);
        String[] parts = (String[]) result;
        assertThat(parts[0]).as("OpenTelemetry is hidden").isEqualTo("absent");
        JsonNode line = LogCapture.checkLine(parts[1].getBytes(StandardCharsets.UTF_8));
        assertThat(line.get("trace_id").asText()).isEqualTo("mdc-trace");
        assertThat(line.get("span_id").asText()).isEqualTo("mdc-span");
        assertThat(line.get("message").asText()).isEqualTo("no span api");
      }
    }

    private URL location(Class<?> type) {
      return type.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void writesLoggerAndThreadOnlyWhenAsked() {
      try (LogCapture capture = LogCapture.create()) {
        capture.logger.info("m");
        assertThat(capture.single().has("logger")).isFalse();
      }
      try (LogCapture capture =
          LogCapture.create(
              encoder -> {
                encoder.setIncludeLogger(true);
                encoder.setIncludeThread(true);
              })) {
        capture.logger.info("m");
        JsonNode line = capture.single();
        assertThat(line.get("logger").asText()).isEqualTo("io.conea.test.Capture");
        assertThat(line.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(LogCapture.fieldNames(line))
            .containsExactly("timestamp", "level", "message", "logger", "thread");
      }
    }

    @Test
    void renamesTopLevelFields() {
      try (LogCapture capture =
          LogCapture.create(
              encoder -> {
                encoder.setFieldNames(" level = severity , message=msg,metadata=meta");
                encoder.setService("svc");
              })) {
        capture.logger.atWarn().addKeyValue("k", 1).log("hello");
        JsonNode line = capture.single();
        assertThat(LogCapture.fieldNames(line))
            .containsExactly("timestamp", "severity", "service", "msg", "meta");
        assertThat(line.get("severity").asText()).isEqualTo("warn");
        assertThat(line.get("msg").asText()).isEqualTo("hello");
      }
    }
  }

  @Nested
  class NameClashes {

    @Test
    void keepsTheFirstOfDuplicateKeyValuePairsAndReportsOnce() {
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setIncludeMdcKeys("model"))) {
        MDC.put("model", "from-mdc");
        capture
            .logger
            .atInfo()
            .addKeyValue("model", "first")
            .addKeyValue("model", "second")
            .addKeyValue("user_id", "u1")
            .addKeyValue("user_id", "u2")
            .log("dups");
        capture.logger.atInfo().addKeyValue("x", 1).addKeyValue("x", 2).log("again");
        List<JsonNode> lines = capture.lines();
        assertThat(lines.get(0).get("metadata").get("model").asText()).isEqualTo("first");
        assertThat(LogCapture.fieldNames(lines.get(0).get("metadata"))).containsExactly("model");
        assertThat(lines.get(0).get("user_id").asText()).isEqualTo("u1");
        assertThat(lines.get(1).get("metadata").get("x").asInt()).isEqualTo(1);
        assertThat(capture.warnings())
            .filteredOn(message -> message.contains("already written"))
            .hasSize(1);
      }
    }

    @Test
    void keepsSchemaNamedPairsInsideMetadataWithoutTouchingTheSchemaFields() {
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setService("svc"))) {
        capture
            .logger
            .atInfo()
            .addKeyValue("level", "fake")
            .addKeyValue("message", "fake")
            .addKeyValue("timestamp", "fake")
            .addKeyValue("service", "fake")
            .addKeyValue("metadata", "fake")
            .addKeyValue("error", "fake")
            .log("real");
        JsonNode line = capture.single();
        assertThat(line.get("level").asText()).isEqualTo("info");
        assertThat(line.get("message").asText()).isEqualTo("real");
        assertThat(line.get("service").asText()).isEqualTo("svc");
        assertThat(line.has("error")).isFalse();
        assertThat(LogCapture.fieldNames(line.get("metadata")))
            .containsExactly("level", "message", "timestamp", "service", "metadata", "error");
      }
    }

    @Test
    void dropsNamesThatBecomeEqualAfterCuttingOrSurrogateRepair() {
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setMaxValueLength(4))) {
        capture
            .logger
            .atInfo()
            .addKeyValue("abcdX", 1)
            .addKeyValue("abcdY", 2)
            .addKeyValue("a\uD800", 3)
            .addKeyValue("a\uDC00", 4)
            .addKeyValue(null, 5)
            .addKeyValue("null", 6)
            .log("m");
        JsonNode metadata = capture.single().get("metadata");
        assertThat(LogCapture.fieldNames(metadata))
            .containsExactly("abcd" + MARKER, "a\uFFFD", "null");
        assertThat(metadata.get("abcd" + MARKER).asInt()).isEqualTo(1);
        assertThat(metadata.get("a\uFFFD").asInt()).isEqualTo(3);
        assertThat(metadata.get("null").asInt()).isEqualTo(5);
      }
    }
  }

  @Nested
  class Failures {

    @Test
    void keepsTheEventWhenAnArgumentToStringThrows() {
      try (LogCapture capture = LogCapture.create()) {
        capture.logger.info("value {} here", new ThrowingToString());
        assertThat(capture.single().get("message").asText())
            .startsWith("value ")
            .endsWith(" here")
            .contains("FAILED toString()");
      }
    }

    @Test
    void writesTheRawPatternWhenFormattingThrows() {
      try (LogCapture capture = LogCapture.create()) {
        LoggingEvent event =
            new LoggingEvent(
                getClass().getName(),
                capture.context.getLogger("x"),
                Level.INFO,
                "user {} failed",
                null,
                new Object[] {"u1"}) {
              @Override
              public String getFormattedMessage() {
                throw new IllegalStateException("formatter broke");
              }
            };
        event.setMDCPropertyMap(Map.of("user_id", "u1"));
        JsonNode line = LogCapture.checkLine(capture.encoder.encode(event));
        LogCapture.checkLine(capture.encoder.encode(event));
        assertThat(line.get("message").asText())
            .isEqualTo(
                "user {} failed [message formatting failed: java.lang.IllegalStateException]");
        assertThat(line.get("user_id").asText()).isEqualTo("u1");
        assertThat(capture.warnings())
            .filteredOn(message -> message.contains("Formatting a log message failed"))
            .hasSize(1);
      }
    }

    @Test
    void writesAMarkerWhenAKeyValueToStringThrows() {
      try (LogCapture capture = LogCapture.create()) {
        capture
            .logger
            .atInfo()
            .addKeyValue("bad", new ThrowingToString())
            .addKeyValue("user_id", new ThrowingToString())
            .addKeyValue("good", "ok")
            .log("m");
        JsonNode line = capture.single();
        assertThat(line.get("metadata").get("bad").asText())
            .isEqualTo("[toString() failed: java.lang.IllegalStateException]");
        assertThat(line.get("user_id").asText())
            .isEqualTo("[toString() failed: java.lang.IllegalStateException]");
        assertThat(line.get("metadata").get("good").asText()).isEqualTo("ok");
        assertThat(capture.warnings())
            .filteredOn(message -> message.contains("toString() failed"))
            .hasSize(1);
      }
    }

    @Test
    void writesAReducedLineWhenTheEventItselfThrows() {
      try (LogCapture capture = LogCapture.create()) {
        LoggingEvent event =
            new LoggingEvent(
                getClass().getName(),
                capture.context.getLogger("x"),
                Level.ERROR,
                "pattern {}",
                null,
                null) {
              @Override
              public List<KeyValuePair> getKeyValuePairs() {
                throw new IllegalStateException("broken event");
              }
            };
        JsonNode line = LogCapture.checkLine(capture.encoder.encode(event));
        assertThat(line.get("level").asText()).isEqualTo("error");
        assertThat(line.get("message").asText())
            .isEqualTo("[encoding failed: java.lang.IllegalStateException] pattern {}");
        assertThat(capture.warnings())
            .filteredOn(message -> message.contains("Encoding a log event failed"))
            .hasSize(1);
      }
    }

    @Test
    void writesTheEventWithoutMdcWhenTheEventCannotGiveIt() {
      LoggerContext withoutMdcAdapter = new LoggerContext();
      try (LogCapture capture = LogCapture.create()) {
        LoggingEvent event =
            new LoggingEvent(
                getClass().getName(),
                withoutMdcAdapter.getLogger("x"),
                Level.INFO,
                "no mdc",
                null,
                null);
        event.addKeyValuePair(new KeyValuePair("user_id", "u1"));
        JsonNode line = LogCapture.checkLine(capture.encoder.encode(event));
        assertThat(line.get("message").asText()).isEqualTo("no mdc");
        assertThat(line.get("user_id").asText()).isEqualTo("u1");
        assertThat(capture.warnings())
            .filteredOn(message -> message.contains("Reading an event's MDC failed"))
            .hasSize(1);
      }
    }

    @Test
    void encodesNothingBeforeStartOrAfterStop() {
      ConeaJsonEncoder encoder = new ConeaJsonEncoder();
      LoggerContext context = new LoggerContext();
      encoder.setContext(context);
      LoggingEvent event = event(context, Level.INFO, "m");
      assertThat(encoder.encode(event)).isEmpty();
      encoder.start();
      assertThat(encoder.encode(event)).isNotEmpty();
      encoder.stop();
      assertThat(encoder.isStarted()).isFalse();
      assertThat(encoder.encode(event)).isEmpty();
    }
  }

  @Nested
  class Configuration {

    private List<String> startErrors(Consumer<ConeaJsonEncoder> configuration) {
      try (LogCapture capture = LogCapture.create(configuration)) {
        assertThat(capture.encoder.isStarted()).isFalse();
        return capture.statusMessages(Status.ERROR);
      }
    }

    private LoggerContext configureFromXml(String encoderSettings, Path file) throws Exception {
      String xml =
          "<configuration>\n"
              + "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">\n"
              + "    <file>"
              + file
              + "</file>\n"
              + "    <encoder class=\"io.conea.logging.ConeaJsonEncoder\">\n"
              + encoderSettings
              + "    </encoder>\n"
              + "  </appender>\n"
              + "  <root level=\"INFO\"><appender-ref ref=\"FILE\"/></root>\n"
              + "</configuration>\n";
      LoggerContext context = new LoggerContext();
      context.setMDCAdapter(MDC.getMDCAdapter());
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
      return context;
    }

    @Test
    void isConfiguredFromLogbackXmlLikeAnyEncoder(@TempDir Path directory) throws Exception {
      Path file = directory.resolve("app.log");
      LoggerContext context =
          configureFromXml(
              "      <service>conea-api</service>\n"
                  + "      <includeMdcKeys>tenant</includeMdcKeys>\n"
                  + "      <fieldNames>level=severity</fieldNames>\n"
                  + "      <includeThread>true</includeThread>\n"
                  + "      <maxLineBytes>2048</maxLineBytes>\n"
                  + "      <maxMessageLength>5</maxMessageLength>\n",
              file);
      try {
        MDC.put("tenant", "acme");
        context.getLogger("app").atInfo().addKeyValue("tokens", 3).log("configured");
      } finally {
        MDC.clear();
        context.stop();
      }
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      assertThat(lines).hasSize(1);
      JsonNode line = LogCapture.checkLine((lines.get(0) + "\n").getBytes(StandardCharsets.UTF_8));
      assertThat(LogCapture.fieldNames(line))
          .containsExactly("timestamp", "severity", "service", "message", "metadata", "thread");
      assertThat(line.get("service").asText()).isEqualTo("conea-api");
      assertThat(line.get("message").asText()).isEqualTo("confi" + MARKER);
      assertThat(line.get("metadata").get("tenant").asText()).isEqualTo("acme");
      assertThat(line.get("metadata").get("tokens").asInt()).isEqualTo(3);
      assertThat(context.getStatusManager().getCopyOfStatusList())
          .noneMatch(status -> status.getLevel() == Status.ERROR);
    }

    @Test
    void reportsBadLogbackXmlSettingsOnTheStatus(@TempDir Path directory) throws Exception {
      LoggerContext context =
          configureFromXml("      <maxLineBytes>10</maxLineBytes>\n", directory.resolve("a.log"));
      context.stop();
      assertThat(context.getStatusManager().getCopyOfStatusList())
          .filteredOn(status -> status.getLevel() == Status.ERROR)
          .extracting(Status::getMessage)
          .contains("ConeaJsonEncoder: maxLineBytes must be between 1024 and 1048576, was 10");
    }

    @Test
    void startsWithDefaults() {
      try (LogCapture capture = LogCapture.create()) {
        assertThat(capture.encoder.isStarted()).isTrue();
        assertThat(capture.statusMessages(Status.ERROR)).isEmpty();
      }
    }

    @Test
    void rejectsOutOfRangeLimits() {
      assertThat(startErrors(encoder -> encoder.setMaxLineBytes(1023)))
          .containsExactly(
              "ConeaJsonEncoder: maxLineBytes must be between 1024 and 1048576, was 1023");
      assertThat(startErrors(encoder -> encoder.setMaxLineBytes(2_000_000)))
          .containsExactly(
              "ConeaJsonEncoder: maxLineBytes must be between 1024 and 1048576, was 2000000");
      assertThat(startErrors(encoder -> encoder.setMaxMessageLength(0)))
          .containsExactly("ConeaJsonEncoder: maxMessageLength must be at least 1, was 0");
      assertThat(startErrors(encoder -> encoder.setMaxValueLength(-5)))
          .containsExactly("ConeaJsonEncoder: maxValueLength must be at least 1, was -5");
      assertThat(startErrors(encoder -> encoder.setMaxStackTraceLength(0)))
          .containsExactly("ConeaJsonEncoder: maxStackTraceLength must be at least 1, was 0");
      assertThat(startErrors(encoder -> encoder.setMaxStackTraceFrames(-1)))
          .containsExactly("ConeaJsonEncoder: maxStackTraceFrames must be at least 0, was -1");
    }

    @Test
    void rejectsBadFieldNames() {
      assertThat(startErrors(encoder -> encoder.setFieldNames("level")))
          .containsExactly(
              "ConeaJsonEncoder: fieldNames entry 'level' is not of the form default=new");
      assertThat(startErrors(encoder -> encoder.setFieldNames("lvl=severity")))
          .singleElement()
          .asString()
          .startsWith("ConeaJsonEncoder: fieldNames renames unknown field 'lvl'; known fields:")
          .contains("duration_ms");
      assertThat(startErrors(encoder -> encoder.setFieldNames("level=a,level=b")))
          .containsExactly("ConeaJsonEncoder: fieldNames renames 'level' twice");
      assertThat(startErrors(encoder -> encoder.setFieldNames("message=level")))
          .containsExactly("ConeaJsonEncoder: fieldNames gives two fields the name 'level'");
      assertThat(startErrors(encoder -> encoder.setFieldNames("message=has space")))
          .containsExactly(
              "ConeaJsonEncoder: fieldNames gives 'message' the name 'has space'; a name is 1"
                  + " to 64 characters from A-Z a-z 0-9 _ . @ -");
      assertThat(startErrors(encoder -> encoder.setFieldNames("message="))).hasSize(1);
    }

    @Test
    void rejectsMdcKeysThatAreSchemaFieldsOrRepeated() {
      assertThat(startErrors(encoder -> encoder.setIncludeMdcKeys("tenant,user_id")))
          .containsExactly(
              "ConeaJsonEncoder: includeMdcKeys lists 'user_id', which is read for the top-level"
                  + " field of that name already");
      assertThat(startErrors(encoder -> encoder.setIncludeMdcKeys("a,b,a")))
          .containsExactly("ConeaJsonEncoder: includeMdcKeys lists 'a' twice");
    }

    @Test
    void reportsEveryProblemAtOnce() {
      assertThat(
              startErrors(
                  encoder -> {
                    encoder.setMaxLineBytes(10);
                    encoder.setFieldNames("nope=x");
                  }))
          .hasSize(2);
    }
  }

  @Nested
  class AnyInput {

    @Test
    void writesOneValidLinePerEventForAHundredThousandRandomStrings() {
      long seed = 20250526L;
      Random random = new Random(seed);
      int events = 100_000;
      int batch = 2_000;
      int exact = 0;
      int repaired = 0;
      int cut = 0;
      String[] inputs = new String[batch];
      String[] keys = new String[batch];
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setIncludeMdcKeys("r"))) {
        for (int done = 0; done < events; done += batch) {
          for (int i = 0; i < batch; i++) {
            inputs[i] = randomString(random, randomLength(random));
            keys[i] = "key:" + randomString(random, random.nextInt(12));
            MDC.put("r", inputs[i]);
            capture
                .logger
                .atInfo()
                .addKeyValue("k", inputs[i])
                .addKeyValue(keys[i], 1)
                .log(inputs[i]);
          }
          List<byte[]> lines = capture.rawLines();
          assertThat(lines).as("seed %d", seed).hasSize(batch);
          for (int i = 0; i < batch; i++) {
            String input = inputs[i];
            JsonNode line = LogCapture.checkLine(lines.get(i));
            assertThat(lines.get(i).length)
                .isLessThanOrEqualTo(ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES);
            String message = expected(input, ConeaJsonEncoder.DEFAULT_MAX_MESSAGE_LENGTH);
            String value = expected(input, ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH);
            if (line.has("truncated")) {
              cut++;
              String written = line.get("message").asText();
              if (!written.equals(message)) {
                assertThat(written).endsWith(MARKER);
                assertThat(message)
                    .startsWith(written.substring(0, written.length() - MARKER.length()));
              }
              continue;
            }
            JsonNode metadata = line.get("metadata");
            assertThat(line.get("message").asText()).isEqualTo(message);
            assertThat(metadata.get("k").asText()).isEqualTo(value);
            assertThat(metadata.get("r").asText()).isEqualTo(value);
            String key = expected(keys[i], ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH);
            assertThat(LogCapture.fieldNames(metadata)).containsExactly("k", key, "r");
            if (expected(input, Integer.MAX_VALUE).equals(input)
                && input.length() <= ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH) {
              assertThat(metadata.get("k").asText()).isEqualTo(input);
              assertThat(line.get("message").asText()).isEqualTo(input);
              exact++;
            } else {
              repaired++;
            }
          }
          capture.reset();
        }
      }
      assertThat(exact).as("well-formed inputs that round-tripped").isGreaterThan(50_000);
      assertThat(repaired).as("inputs with lone surrogates or over a cap").isGreaterThan(10_000);
      assertThat(exact + repaired + cut).isEqualTo(events);
    }

    private int randomLength(Random random) {
      int bucket = random.nextInt(100);
      if (bucket < 85) {
        return random.nextInt(40);
      }
      if (bucket < 97) {
        return 40 + random.nextInt(400);
      }
      return 1000 + random.nextInt(100);
    }

    /** Random text; one in four strings may also hold lone surrogates. */
    private String randomString(Random random, int length) {
      StringBuilder text = new StringBuilder(length + 1);
      int kinds = random.nextInt(4) == 0 ? 10 : 7;
      while (text.length() < length) {
        switch (random.nextInt(kinds)) {
          case 0:
            text.append((char) random.nextInt(0x20));
            break;
          case 1:
            text.append("\"\\/\u007f\u2028\u2029{}".charAt(random.nextInt(8)));
            break;
          case 2:
          case 3:
            text.append((char) (0x20 + random.nextInt(0x5f)));
            break;
          case 4:
            text.append((char) (0x80 + random.nextInt(0x780)));
            break;
          case 5:
            char c = (char) (0x800 + random.nextInt(0x10000 - 0x800));
            text.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            break;
          case 6:
            text.appendCodePoint(0x10000 + random.nextInt(0x100000));
            break;
          case 7:
            text.append((char) (0xD800 + random.nextInt(0x400)));
            break;
          case 8:
            text.append((char) (0xDC00 + random.nextInt(0x400)));
            break;
          case 9:
            text.appendCodePoint(random.nextInt(0x110000));
            break;
          default:
            text.append((char) (0x20 + random.nextInt(0x5f)));
            break;
        }
      }
      return text.toString();
    }
  }

  /**
   * What the encoder should write for {@code input}: lone surrogates replaced by U+FFFD, and cut
   * before the first code point past {@code cap} with the marker appended.
   */
  static String expected(String input, int cap) {
    StringBuilder out = new StringBuilder();
    int chars = 0;
    for (int i = 0; i < input.length(); ) {
      char c = input.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c)
              && i + 1 < input.length()
              && Character.isLowSurrogate(input.charAt(i + 1));
      int units = pair ? 2 : 1;
      if (chars + units > cap) {
        return out.append(MARKER).toString();
      }
      if (pair) {
        out.append(c).append(input.charAt(i + 1));
      } else {
        out.append(Character.isSurrogate(c) ? '\uFFFD' : c);
      }
      chars += units;
      i += units;
    }
    return out.toString();
  }

  @Nested
  class Concurrency {

    @Test
    void keepsLinesWholeAndCompleteWhenEightThreadsLogAtOnce() throws Exception {
      int threads = 8;
      int perThread = 5_000;
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setIncludeMdcKeys("worker"))) {
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
          List<Future<?>> done = new ArrayList<>();
          for (int t = 0; t < threads; t++) {
            int worker = t;
            done.add(
                pool.submit(
                    () -> {
                      start.await();
                      MDC.put("worker", "w" + worker);
                      MDC.put("user_id", "user_" + worker);
                      String padding = "\u00e9\u65e5\n\"".repeat(worker * 20);
                      for (int i = 0; i < perThread; i++) {
                        capture
                            .logger
                            .atInfo()
                            .addKeyValue("seq", i)
                            .addKeyValue("padding", padding)
                            .log("worker {} event {}", worker, i);
                      }
                      MDC.clear();
                      return null;
                    }));
          }
          start.countDown();
          for (Future<?> future : done) {
            future.get(60, TimeUnit.SECONDS);
          }
        } finally {
          pool.shutdownNow();
        }

        List<JsonNode> lines = capture.lines();
        assertThat(lines).hasSize(threads * perThread);
        boolean[][] seen = new boolean[threads][perThread];
        for (JsonNode line : lines) {
          JsonNode metadata = line.get("metadata");
          int worker = Integer.parseInt(metadata.get("worker").asText().substring(1));
          int seq = metadata.get("seq").asInt();
          assertThat(line.get("message").asText()).isEqualTo("worker " + worker + " event " + seq);
          assertThat(line.get("user_id").asText()).isEqualTo("user_" + worker);
          assertThat(metadata.get("padding").asText())
              .isEqualTo("\u00e9\u65e5\n\"".repeat(worker * 20));
          assertThat(seen[worker][seq]).as("duplicate line").isFalse();
          seen[worker][seq] = true;
        }
      }
    }
  }

  @Nested
  class PathologicalExceptions {

    private final int[] caps = {ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES, 1024};

    private JsonNode logQuickly(Throwable throwable, int maxLineBytes) {
      try (LogCapture capture =
          LogCapture.create(encoder -> encoder.setMaxLineBytes(maxLineBytes))) {
        long start = System.nanoTime();
        capture.logger.error("request failed", throwable);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        assertThat(elapsed).isLessThan(Duration.ofSeconds(1));
        List<byte[]> lines = capture.rawLines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).length).isLessThanOrEqualTo(maxLineBytes);
        JsonNode line = LogCapture.checkLine(lines.get(0));
        assertThat(line.get("level").asText()).isEqualTo("error");
        assertThat(line.get("message").asText()).isEqualTo("request failed");
        return line;
      }
    }

    @Test
    void encodesACauseCycle() {
      Exception a = new IllegalStateException("a");
      Exception b = new IllegalArgumentException("b", a);
      a.initCause(b);
      for (int cap : caps) {
        JsonNode error = logQuickly(a, cap).get("error");
        assertThat(error.get("type").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(error.get("message").asText()).isEqualTo("a");
        if (cap == ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES) {
          assertThat(error.get("stack_trace").asText())
              .contains("Caused by: java.lang.IllegalArgumentException: b")
              .contains("[CIRCULAR REFERENCE: java.lang.IllegalStateException: a]");
        }
      }
    }

    @Test
    void encodesTenThousandFrames() {
      Exception e = new Exception("deep");
      e.setStackTrace(StackTraceWriterTest.frames(10_000));
      for (int cap : caps) {
        String trace = logQuickly(e, cap).get("error").get("stack_trace").asText();
        if (cap == ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES) {
          assertThat(trace.split("\n"))
              .hasSize(ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_FRAMES + 2);
          assertThat(trace).endsWith("\t... 9936 frames truncated");
        }
      }
    }

    @Test
    void encodesACauseChainAThousandDeep() {
      Throwable chain = new Exception("root");
      for (int i = 1; i < 1000; i++) {
        chain = new RuntimeException("level " + i, chain);
      }
      for (int cap : caps) {
        JsonNode line = logQuickly(chain, cap);
        String trace = line.get("error").get("stack_trace").asText();
        assertThat(trace).endsWith(MARKER);
        if (cap == ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES) {
          assertThat(trace)
              .hasSize(ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_LENGTH + MARKER.length());
        } else {
          assertThat(line.get("truncated").asBoolean()).isTrue();
        }
      }
    }

    @Test
    void encodesSuppressedCycles() {
      Exception a = new Exception("a");
      Exception b = new Exception("b");
      a.addSuppressed(b);
      b.addSuppressed(a);
      for (int cap : caps) {
        String trace = logQuickly(a, cap).get("error").get("stack_trace").asText();
        if (cap == ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES) {
          assertThat(trace)
              .contains("\tSuppressed: java.lang.Exception: b")
              .contains("\t\tSuppressed: [CIRCULAR REFERENCE: java.lang.Exception: a]");
        }
      }
    }

    @Test
    void encodesAThousandSuppressedWithLongMessages() {
      Exception root = new Exception("x".repeat(100_000));
      StackTraceElement[] frames = StackTraceWriterTest.frames(1000);
      for (int i = 0; i < 1000; i++) {
        Exception suppressed = new Exception("suppressed " + i);
        suppressed.setStackTrace(frames);
        root.addSuppressed(suppressed);
      }
      for (int cap : caps) {
        JsonNode line = logQuickly(root, cap);
        assertThat(line.get("error").get("message").asText()).endsWith(MARKER);
        if (cap == ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES) {
          assertThat(line.get("error").get("message").asText())
              .hasSize(ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH + MARKER.length());
          assertThat(line.get("error").get("stack_trace").asText())
              .hasSize(ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_LENGTH + MARKER.length());
        } else {
          assertThat(line.get("truncated").asBoolean()).isTrue();
        }
      }
    }
  }

  @Nested
  class Caps {

    @Test
    void cutsTheMessageAndValuesAtTheirCaps() {
      try (LogCapture capture =
          LogCapture.create(
              encoder -> {
                encoder.setMaxMessageLength(10);
                encoder.setMaxValueLength(5);
                encoder.setService("a-long-service-name");
              })) {
        MDC.put("path", "/api/v1/users/123");
        capture
            .logger
            .atInfo()
            .addKeyValue("k", "123456")
            .addKeyValue("n", 1234567)
            .log("0123456789X");
        JsonNode line = capture.single();
        assertThat(line.get("message").asText()).isEqualTo("0123456789" + MARKER);
        assertThat(line.get("service").asText()).isEqualTo("a-lon" + MARKER);
        assertThat(line.get("path").asText()).isEqualTo("/api/" + MARKER);
        assertThat(line.get("metadata").get("k").asText()).isEqualTo("12345" + MARKER);
        assertThat(line.get("metadata").get("n").asInt())
            .as("numbers are not cut")
            .isEqualTo(1234567);
        assertThat(line.has("truncated")).as("the line itself was not cut").isFalse();
      }
    }

    @Test
    void stopsAddingMetadataAndClosesTheLineAtTheLineCap() {
      try (LogCapture capture = LogCapture.create(encoder -> encoder.setMaxLineBytes(1024))) {
        org.slf4j.spi.LoggingEventBuilder builder = capture.logger.atInfo();
        for (int i = 0; i < 200; i++) {
          builder = builder.addKeyValue("key" + i, "value " + i);
        }
        builder.setCause(new IllegalStateException("lost to the cap")).log("many entries");
        byte[] raw = capture.rawLines().get(0);
        assertThat(raw.length).isLessThanOrEqualTo(1024);
        JsonNode line = LogCapture.checkLine(raw);
        assertThat(line.get("truncated").asBoolean()).isTrue();
        assertThat(LogCapture.fieldNames(line))
            .containsExactly("timestamp", "level", "message", "metadata", "truncated");
        List<String> keys = LogCapture.fieldNames(line.get("metadata"));
        assertThat(keys).hasSizeBetween(20, 199);
        for (int i = 0; i < keys.size(); i++) {
          assertThat(keys.get(i)).isEqualTo("key" + i);
          String value = line.get("metadata").get(keys.get(i)).asText();
          if (i < keys.size() - 1) {
            assertThat(value).isEqualTo("value " + i);
          } else {
            String whole = "value " + i;
            boolean cutCleanly =
                value.endsWith(MARKER)
                    && whole.startsWith(value.substring(0, value.length() - MARKER.length()));
            assertThat(value.equals(whole) || cutCleanly).as(value).isTrue();
          }
        }
      }
    }

    @Test
    void eitherWritesTheWholeLineOrFlagsItAsTruncatedAtEveryCap() {
      LoggerContext context = new LoggerContext();
      Map<String, String> mdc = new HashMap<>();
      mdc.put("user_id", "user_\u00e9\n\uD83D\uDE00".repeat(10));
      mdc.put("path", "/api/v1/\u2028/x");
      mdc.put("status", "503");
      mdc.put("tenant", "acme\"");
      LoggingEvent event =
          new LoggingEvent(
              getClass().getName(),
              context.getLogger("cap"),
              Level.ERROR,
              "\u00e9\n\u0001\uD83D\uDE00\"x\\".repeat(60),
              new IllegalStateException("boom", new java.io.IOException("disk")),
              null);
      event.setMDCPropertyMap(mdc);
      for (int i = 0; i < 30; i++) {
        event.addKeyValuePair(new KeyValuePair("k" + i, i % 3 == 0 ? i : "v\t" + i));
      }
      byte[] full = encoder(context, ConeaJsonEncoder.MAX_LINE_BYTES).encode(event);
      assertThat(LogCapture.checkLine(full).has("truncated")).isFalse();
      int truncatedLines = 0;
      for (int cap = ConeaJsonEncoder.MIN_LINE_BYTES; cap <= full.length + 8; cap++) {
        byte[] line = encoder(context, cap).encode(event);
        assertThat(line.length).as("cap %d", cap).isLessThanOrEqualTo(cap);
        JsonNode node = LogCapture.checkLine(line);
        if (node.has("truncated")) {
          truncatedLines++;
          assertThat(line.length).as("cap %d", cap).isLessThan(full.length);
        } else {
          assertThat(line).as("cap %d", cap).isEqualTo(full);
        }
      }
      assertThat(truncatedLines).isGreaterThan(0);
    }

    private ConeaJsonEncoder encoder(LoggerContext context, int maxLineBytes) {
      ConeaJsonEncoder encoder = new ConeaJsonEncoder(name -> null);
      encoder.setContext(context);
      encoder.setMaxLineBytes(maxLineBytes);
      encoder.setIncludeMdcKeys("tenant");
      encoder.setIncludeThread(true);
      encoder.start();
      assertThat(encoder.isStarted()).isTrue();
      return encoder;
    }
  }

  @Test
  void allocatesLittleMoreThanTheReturnedLinePerEvent() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    try (LogCapture capture =
        LogCapture.create(
            encoder -> {
              encoder.setService("conea-api");
              encoder.setIncludeMdcKeys("tenant");
            })) {
      Map<String, String> mdc = new HashMap<>();
      mdc.put("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
      mdc.put("span_id", "00f067aa0ba902b7");
      mdc.put("user_id", "user_123");
      mdc.put("method", "POST");
      mdc.put("path", "/api/v1/ai/chat");
      mdc.put("status", "200");
      mdc.put("tenant", "acme");
      LoggingEvent event = event(capture.context, Level.INFO, "AI chat request completed", mdc);
      event.addKeyValuePair(new KeyValuePair("model", "gpt-4"));
      event.addKeyValuePair(new KeyValuePair("tokens", 1250));
      event.addKeyValuePair(new KeyValuePair("duration_ms", 245L));
      ConeaJsonEncoder encoder = capture.encoder;
      int lineBytes = encoder.encode(event).length;
      for (int i = 0; i < 20_000; i++) {
        encoder.encode(event);
      }
      int rounds = 10_000;
      long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < rounds; i++) {
        encoder.encode(event);
      }
      long perEvent = (threads.getCurrentThreadAllocatedBytes() - before) / rounds;
      // The returned array: a 16-byte header, the line, padding to 8 bytes.
      long arrayBytes = 16 + ((lineBytes + 7) / 8) * 8;
      assertThat(perEvent).isLessThanOrEqualTo(arrayBytes + 16);
    }
  }

  /** Throws from toString, as a broken domain object would. */
  static final class ThrowingToString {
    @Override
    public String toString() {
      throw new IllegalStateException("no text for you");
    }
  }
}
