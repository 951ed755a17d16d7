package io.conea.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import io.conea.logging.FailureReporter.Failure;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.RandomAccess;
import org.jspecify.annotations.Nullable;
import org.slf4j.event.KeyValuePair;

/**
 * Writes one event as one line in the schema that {@link ConeaJsonEncoder} documents: the fields,
 * their values, the key-value pairs and MDC entries, the error object, the truncation flag, and the
 * reduced line written when anything else fails. Never throws; reports failures through its {@link
 * FailureReporter}.
 *
 * <p>One per encoder, shared by all threads: it holds no state of an event. The settings come with
 * each call, read once per event by the encoder, so that an event is written with one set of them
 * even while the encoder restarts; the buffers come from their pool.
 */
final class EventWriter {

  private static final boolean OPEN_TELEMETRY_PRESENT = isOpenTelemetryPresent();

  private static final byte[] TRACE = quoted("trace");
  private static final byte[] DEBUG = quoted("debug");
  private static final byte[] INFO = quoted("info");
  private static final byte[] WARN = quoted("warn");
  private static final byte[] ERROR = quoted("error");

  private static final byte[] ERROR_TYPE = JsonWriter.encodedName("type");
  private static final byte[] ERROR_MESSAGE = JsonWriter.encodedName("message");
  private static final byte[] ERROR_STACK_TRACE = JsonWriter.encodedName("stack_trace");

  private final FailureReporter failures;

  /** False once reading the current span failed, and from the start without the API. */
  private volatile boolean spanReadable = OPEN_TELEMETRY_PRESENT;

  EventWriter(FailureReporter failures) {
    this.failures = failures;
  }

  /** Encodes one event as one line of JSON ending with a newline; never throws. */
  byte[] encode(EncoderSettings s, ILoggingEvent event) {
    Scratch scratch = s.scratches.take();
    JsonWriter w = scratch.writer;
    try {
      if (!writeFields(s, scratch, event, s.maxLineBytes - 1)) {
        // Too long for the cap: write it again with room kept back for the flag that says so.
        scratch.clear();
        writeFields(s, scratch, event, s.truncatedEnd);
        w.reservedName(s.names[Field.TRUNCATED.ordinal()]);
        w.booleanValue(true);
      }
      w.endObject();
      w.newline();
      return w.toByteArray();
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      failures.once(Failure.ENCODING, e);
      return reducedLine(s, event, e);
    } finally {
      scratch.clear();
      s.scratches.give(scratch);
    }
  }

  /**
   * Writes the opening brace and every field that fits within {@code end} bytes, leaving the top
   * object open; returns false if something did not fit.
   */
  private boolean writeFields(EncoderSettings s, Scratch scratch, ILoggingEvent event, int end) {
    JsonWriter w = scratch.writer;
    w.reset(end);
    w.beginObject();

    if (w.name(s.names[Field.TIMESTAMP.ordinal()], Scratch.TIMESTAMP_VALUE_BYTES)) {
      scratch.writeTimestamp(event.getTimeStamp());
    }
    byte[] level = levelValue(event.getLevel());
    if (level != null && w.name(s.names[Field.LEVEL.ordinal()], level.length)) {
      w.raw(level, 0, level.length);
      w.endRawValue();
    }
    if (s.service != null) {
      stringField(s, w, Field.SERVICE, s.service);
    }

    List<KeyValuePair> pairs = event.getKeyValuePairs();
    int metadataPairs = collectContextPairs(pairs, scratch.context);
    Map<String, String> mdc = mdc(event);

    Object span = currentSpan();
    if (span != null) {
      stringField(s, w, Field.TRACE_ID, CurrentSpan.traceId(span));
      stringField(s, w, Field.SPAN_ID, CurrentSpan.spanId(span));
    } else {
      textField(s, w, Field.TRACE_ID, contextValue(scratch, mdc, Field.TRACE_ID));
      textField(s, w, Field.SPAN_ID, contextValue(scratch, mdc, Field.SPAN_ID));
    }
    textField(s, w, Field.USER_ID, contextValue(scratch, mdc, Field.USER_ID));
    textField(s, w, Field.ORGANIZATION_ID, contextValue(scratch, mdc, Field.ORGANIZATION_ID));
    textField(s, w, Field.METHOD, contextValue(scratch, mdc, Field.METHOD));
    textField(s, w, Field.PATH, contextValue(scratch, mdc, Field.PATH));
    numberField(s, w, Field.STATUS, contextValue(scratch, mdc, Field.STATUS));
    numberField(s, w, Field.DURATION_MS, contextValue(scratch, mdc, Field.DURATION_MS));

    message(s, w, event);
    metadata(s, scratch, pairs, metadataPairs, mdc);

    if (s.includeLogger) {
      stringField(s, w, Field.LOGGER, event.getLoggerName());
    }
    if (s.includeThread) {
      stringField(s, w, Field.THREAD, event.getThreadName());
    }
    IThrowableProxy throwable = event.getThrowableProxy();
    if (throwable != null) {
      error(s, scratch, throwable);
    }
    return !w.overflowed();
  }

  /**
   * Puts the values of key-value pairs named like request fields into {@code context}, first one
   * wins; returns how many other pairs with a value there are.
   */
  private int collectContextPairs(
      @Nullable List<@Nullable KeyValuePair> pairs, @Nullable Object[] context) {
    if (pairs == null) {
      return 0;
    }
    int others = 0;
    if (pairs instanceof RandomAccess) {
      for (int i = 0, n = pairs.size(); i < n; i++) {
        others += collectContextPair(pairs.get(i), context);
      }
    } else {
      for (KeyValuePair pair : pairs) {
        others += collectContextPair(pair, context);
      }
    }
    return others;
  }

  private int collectContextPair(@Nullable KeyValuePair pair, @Nullable Object[] context) {
    if (pair == null || pair.value == null) {
      return 0;
    }
    Field field = Field.forContextKey(pair.key);
    if (field == null) {
      return 1;
    }
    int slot = field.contextSlot();
    if (context[slot] == null) {
      context[slot] = pair.value;
    } else {
      failures.duplicateName(pair.key);
    }
    return 0;
  }

  /** The event's MDC; empty if it has none or cannot give it. */
  private Map<String, String> mdc(ILoggingEvent event) {
    try {
      Map<String, String> mdc = event.getMDCPropertyMap();
      return mdc != null ? mdc : Collections.emptyMap();
    } catch (RuntimeException e) {
      // A LoggingEvent made for a LoggerContext without an MDC adapter throws here.
      failures.once(Failure.MDC, e);
      return Collections.emptyMap();
    }
  }

  /** The request field's key-value pair, else its MDC entry, else null. */
  private static @Nullable Object contextValue(
      Scratch scratch, Map<String, String> mdc, Field field) {
    Object value = scratch.context[field.contextSlot()];
    return value != null ? value : mdc.get(field.defaultName);
  }

  /** The valid span current on this thread, as {@link CurrentSpan} gives it, or null. */
  private @Nullable Object currentSpan() {
    if (!spanReadable) {
      return null;
    }
    try {
      return CurrentSpan.validContext();
    } catch (RuntimeException | LinkageError e) {
      spanReadable = false;
      failures.once(Failure.SPAN, e);
      return null;
    }
  }

  /** Writes a string field cut to the value cap, unless the value is null. */
  private static void stringField(
      EncoderSettings s, JsonWriter w, Field field, @Nullable CharSequence value) {
    if (value != null && w.name(s.names[field.ordinal()], JsonWriter.MIN_VALUE_BYTES)) {
      w.string(value, s.maxValueLength);
    }
  }

  /** Writes a string field holding the value's text, unless the value is null. */
  private void textField(EncoderSettings s, JsonWriter w, Field field, @Nullable Object value) {
    if (value != null) {
      stringField(s, w, field, text(value));
    }
  }

  /**
   * Writes a number field: integral numbers and doubles as they are, other values as their text, as
   * a JSON number if it is in JSON number syntax, else as a string. Nothing if null.
   */
  private void numberField(EncoderSettings s, JsonWriter w, Field field, @Nullable Object value) {
    if (value == null) {
      return;
    }
    byte[] name = s.names[field.ordinal()];
    if (isIntegral(value)) {
      if (w.name(name, JsonWriter.LONG_BYTES)) {
        w.longValue(((Number) value).longValue());
      }
      return;
    }
    int formatted = value instanceof Double ? w.formatDouble((Double) value) : -1;
    if (formatted > 0) {
      if (w.name(name, formatted)) {
        w.formattedNumber(formatted);
      }
      return;
    }
    CharSequence text = text(value);
    if (JsonWriter.isJsonNumber(text)) {
      if (w.name(name, text.length())) {
        w.rawNumber(text);
      }
    } else if (w.name(name, JsonWriter.MIN_VALUE_BYTES)) {
      w.string(text, s.maxValueLength);
    }
  }

  private void message(EncoderSettings s, JsonWriter w, ILoggingEvent event) {
    String message;
    String failure = null;
    try {
      message = event.getFormattedMessage();
    } catch (RuntimeException e) {
      failures.once(Failure.FORMAT, e);
      message = event.getMessage();
      failure = e.getClass().getName();
    }
    if ((message == null && failure == null)
        || !w.name(s.names[Field.MESSAGE.ordinal()], JsonWriter.MIN_VALUE_BYTES)) {
      return;
    }
    w.beginString(s.maxMessageLength);
    if (message != null) {
      w.append(message);
    }
    if (failure != null) {
      w.append(message != null ? " [message formatting failed: " : "[message formatting failed: ");
      w.append(failure);
      w.append(']');
    }
    w.endString();
  }

  /**
   * Writes the {@code metadata} object: the {@code metadataPairs} key-value pairs not named like a
   * request field, then the MDC entries named by {@code includeMdcKeys}; nothing if none has a
   * value.
   */
  private void metadata(
      EncoderSettings s,
      Scratch scratch,
      @Nullable List<@Nullable KeyValuePair> pairs,
      int metadataPairs,
      Map<String, String> mdc) {
    int mdcEntries = 0;
    for (String key : s.mdcKeys) {
      if (mdc.get(key) != null) {
        mdcEntries++;
      }
    }
    JsonWriter w = scratch.writer;
    if (metadataPairs + mdcEntries == 0 || !w.name(s.names[Field.METADATA.ordinal()], 2)) {
      return;
    }
    w.beginObject();
    if (metadataPairs > 0 && pairs != null) {
      for (int i = 0, n = pairs.size(); i < n && !w.overflowed(); i++) {
        KeyValuePair pair = pairs.get(i);
        if (pair != null && pair.value != null && Field.forContextKey(pair.key) == null) {
          metadataEntry(s, scratch, pair.key == null ? "null" : pair.key, pair.value);
        }
      }
    }
    for (int i = 0; i < s.mdcKeys.length && !w.overflowed(); i++) {
      String value = mdc.get(s.mdcKeys[i]);
      if (value != null) {
        metadataEntry(s, scratch, s.mdcKeys[i], value);
      }
    }
    w.endObject();
  }

  /** Writes one entry of {@code metadata}, unless an entry of the same name came before. */
  private void metadataEntry(EncoderSettings s, Scratch scratch, String key, Object value) {
    JsonWriter w = scratch.writer;
    int reserve;
    CharSequence text = null;
    boolean number = false;
    // Doubles such as a cost are common and most are written here without Double.toString.
    int formatted = value instanceof Double ? w.formatDouble((Double) value) : -1;
    if (value instanceof Boolean) {
      reserve = 5;
    } else if (isIntegral(value)) {
      reserve = JsonWriter.LONG_BYTES;
    } else if (formatted > 0) {
      reserve = formatted;
    } else {
      text = text(value);
      number = value instanceof Number && JsonWriter.isJsonNumber(text);
      reserve = number ? text.length() : JsonWriter.MIN_VALUE_BYTES;
    }
    int mark = w.position();
    boolean markComma = w.commaPending();
    if (!w.name(key, s.maxValueLength, reserve)) {
      return;
    }
    int keyStart = markComma ? mark + 1 : mark;
    if (!scratch.addKey(keyStart, w.position() - keyStart)) {
      w.rewind(mark, markComma);
      failures.duplicateName(key);
      return;
    }
    if (value instanceof Boolean) {
      w.booleanValue((Boolean) value);
    } else if (formatted > 0) {
      w.formattedNumber(formatted);
    } else if (text == null) {
      w.longValue(((Number) value).longValue());
    } else if (number) {
      w.rawNumber(text);
    } else {
      w.string(text, s.maxValueLength);
    }
  }

  /** Writes the {@code error} object of the event's throwable. */
  private static void error(EncoderSettings s, Scratch scratch, IThrowableProxy throwable) {
    JsonWriter w = scratch.writer;
    if (!w.name(s.names[Field.ERROR.ordinal()], 2)) {
      return;
    }
    w.beginObject();
    String type = throwable.getClassName();
    if (type != null && w.name(ERROR_TYPE, JsonWriter.MIN_VALUE_BYTES)) {
      w.string(type, s.maxValueLength);
    }
    String message = throwable.getMessage();
    if (message != null && w.name(ERROR_MESSAGE, JsonWriter.MIN_VALUE_BYTES)) {
      w.string(message, s.maxValueLength);
    }
    if (w.name(ERROR_STACK_TRACE, JsonWriter.MIN_VALUE_BYTES)) {
      w.beginString(s.maxStackTraceLength);
      scratch.stackTraces.write(w, throwable);
      w.endString();
    }
    w.endObject();
  }

  private static boolean isIntegral(Object value) {
    return value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof Byte;
  }

  /**
   * The text of a value; never throws. Null only if the value's {@code toString()} returns null.
   */
  private @Nullable CharSequence text(Object value) {
    if (value instanceof CharSequence) {
      return (CharSequence) value;
    }
    try {
      return String.valueOf(value);
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      failures.once(Failure.TO_STRING, e);
      return "[toString() failed: " + e.getClass().getName() + "]";
    }
  }

  /** The quoted level in lower case, or null for no level. */
  private static byte @Nullable [] levelValue(@Nullable Level level) {
    if (level == null) {
      return null;
    }
    switch (level.toInt()) {
      case Level.TRACE_INT:
        return TRACE;
      case Level.DEBUG_INT:
        return DEBUG;
      case Level.INFO_INT:
        return INFO;
      case Level.WARN_INT:
        return WARN;
      case Level.ERROR_INT:
        return ERROR;
      default:
        return quoted(level.toString().toLowerCase(Locale.ROOT));
    }
  }

  /**
   * The line written when encoding failed: timestamp, level and the raw message after a marker
   * naming the failure, in a scratch of its own.
   */
  private static byte[] reducedLine(EncoderSettings s, ILoggingEvent event, Throwable failure) {
    try {
      Scratch scratch = new Scratch(s.maxLineBytes, s.maxStackTraceFrames);
      JsonWriter w = scratch.writer;
      w.reset(s.maxLineBytes - 1);
      w.beginObject();
      if (w.name(s.names[Field.TIMESTAMP.ordinal()], Scratch.TIMESTAMP_VALUE_BYTES)) {
        scratch.writeTimestamp(event.getTimeStamp());
      }
      byte[] level = levelValue(event.getLevel());
      if (level != null && w.name(s.names[Field.LEVEL.ordinal()], level.length)) {
        w.raw(level, 0, level.length);
        w.endRawValue();
      }
      if (w.name(s.names[Field.MESSAGE.ordinal()], JsonWriter.MIN_VALUE_BYTES)) {
        w.beginString(s.maxMessageLength);
        w.append("[encoding failed: ");
        w.append(failure.getClass().getName());
        w.append("] ");
        w.append(event.getMessage());
        w.endString();
      }
      w.endObject();
      w.newline();
      return w.toByteArray();
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      return "{\"message\":\"[encoding failed]\"}\n".getBytes(StandardCharsets.UTF_8);
    }
  }

  private static boolean isOpenTelemetryPresent() {
    try {
      Class.forName("io.opentelemetry.api.trace.Span", false, EventWriter.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static byte[] quoted(String value) {
    return ('"' + value + '"').getBytes(StandardCharsets.UTF_8);
  }
}
