package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.MDC;

/**
 * A real Logback context whose only appender writes through a {@link ConeaJsonEncoder} into memory,
 * and a strict parser for what it wrote.
 */
final class LogCapture implements AutoCloseable {

  /** Fails on duplicate keys, trailing content, invalid UTF-8 and raw control characters. */
  static final ObjectMapper STRICT_JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  final LoggerContext context;
  final ConeaJsonEncoder encoder;
  final Logger logger;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();

  private LogCapture(ConeaJsonEncoder encoder, Consumer<ConeaJsonEncoder> configuration) {
    context = new LoggerContext();
    context.setName("capture");
    // The SLF4J MDC that applications write to, as the tracing filter does.
    context.setMDCAdapter(MDC.getMDCAdapter());
    this.encoder = encoder;
    encoder.setContext(context);
    configuration.accept(encoder);
    encoder.start();
    appender.setContext(context);
    appender.setName("capture");
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    logger = context.getLogger("io.conea.test.Capture");
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    logger.addAppender(appender);
  }

  static LogCapture create(Consumer<ConeaJsonEncoder> configuration) {
    return new LogCapture(new ConeaJsonEncoder(name -> null), configuration);
  }

  static LogCapture create() {
    return create(encoder -> {});
  }

  static LogCapture create(ConeaJsonEncoder encoder, Consumer<ConeaJsonEncoder> configuration) {
    return new LogCapture(encoder, configuration);
  }

  /** Every line written so far, each checked by {@link #checkLine}, decoded as UTF-8. */
  List<byte[]> rawLines() {
    byte[] all;
    synchronized (out) {
      all = out.toByteArray();
    }
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n') {
        byte[] line = new byte[i + 1 - start];
        System.arraycopy(all, start, line, 0, line.length);
        lines.add(line);
        start = i + 1;
      }
    }
    assertThat(start).as("output ends with a newline").isEqualTo(all.length);
    return lines;
  }

  List<JsonNode> lines() {
    return rawLines().stream().map(LogCapture::checkLine).collect(Collectors.toList());
  }

  /** The one line written so far. */
  JsonNode single() {
    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    return lines.get(0);
  }

  void reset() {
    synchronized (out) {
      out.reset();
    }
  }

  List<String> statusMessages(int level) {
    return context.getStatusManager().getCopyOfStatusList().stream()
        .filter(status -> status.getLevel() == level)
        .map(Status::getMessage)
        .collect(Collectors.toList());
  }

  List<String> warnings() {
    return statusMessages(Status.WARN);
  }

  /**
   * Checks that {@code line} is one line of strict UTF-8 JSON ending with its only newline and
   * holding no raw carriage return or JavaScript line terminator, and parses it.
   */
  static JsonNode checkLine(byte[] line) {
    int last = line.length - 1;
    if (last < 1 || line[last] != '\n') {
      throw new AssertionError("line does not end with a newline: " + text(line));
    }
    for (int i = 0; i < last; i++) {
      boolean lineTerminator =
          line[i] == (byte) 0xE2
              && i + 2 < last
              && line[i + 1] == (byte) 0x80
              && (line[i + 2] == (byte) 0xA8 || line[i + 2] == (byte) 0xA9);
      if (line[i] == '\n' || line[i] == '\r' || lineTerminator) {
        throw new AssertionError("raw line break at byte " + i + ": " + text(line));
      }
    }
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(line));
    } catch (CharacterCodingException e) {
      throw new AssertionError("line is not valid UTF-8: " + text(line), e);
    }
    try {
      JsonNode node = STRICT_JSON.readTree(line);
      assertThat(node.isObject()).as("line is a JSON object").isTrue();
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("not strict JSON: " + text(line), e);
    }
  }

  private static String text(byte[] line) {
    return new String(line, StandardCharsets.UTF_8);
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Override
  public void close() {
    MDC.clear();
    appender.stop();
    context.stop();
  }
}
