package io.conea.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.event.KeyValuePair;

/**
 * A Logback encoder that writes each event as one line of JSON in the monitoring guide's structured
 * log schema, so that Loki's {@code | json} and the guide's LogQL queries work unchanged.
 *
 * <p>Configuration in {@code logback.xml}:
 *
 * <pre>{@code
 * <appender name="JSON" class="ch.qos.logback.core.ConsoleAppender">
 *   <encoder class="io.conea.logging.ConeaJsonEncoder">
 *     <service>conea-api</service>
 *     <includeMdcKeys>tenant,region</includeMdcKeys>
 *   </encoder>
 * </appender>
 * }</pre>
 *
 * <p>An event logged with {@code MDC} entries {@code user_id}, {@code organization_id}, {@code
 * method}, {@code path}, {@code status} and {@code duration_ms} inside a span, as {@code
 * log.atInfo().addKeyValue("model", "gpt-4").addKeyValue("tokens", 1250).addKeyValue("cost",
 * 0.0375).log("AI chat request completed")}, is written as (one line):
 *
 * <pre>{@code
 * {"timestamp":"2025-05-26T10:30:45.123Z","level":"info","service":"conea-api",
 * "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","user_id":"user_123",
 * "organization_id":"org_456","method":"POST","path":"/api/v1/ai/chat","status":200,
 * "duration_ms":245,"message":"AI chat request completed",
 * "metadata":{"model":"gpt-4","tokens":1250,"cost":0.0375}}
 * }</pre>
 *
 * <h2>Fields</h2>
 *
 * Fields appear in this order, and a field without a value is left out (never written as {@code
 * null}):
 *
 * <ul>
 *   <li>{@code timestamp}: the event time in UTC with milliseconds and a trailing {@code Z}.
 *   <li>{@code level}: the level in lower case ({@code trace}, {@code debug}, {@code info}, {@code
 *       warn}, {@code error}).
 *   <li>{@code service}: see {@link #setService}.
 *   <li>{@code trace_id}, {@code span_id}: from the current OpenTelemetry span when
 *       opentelemetry-api is on the class path and a valid span is current on the logging thread;
 *       otherwise like the request fields below. (An {@code AsyncAppender} encodes on its own
 *       thread, where no span is current, so there the MDC, which travels with the event, is used.)
 *   <li>{@code user_id}, {@code organization_id}, {@code method}, {@code path} (strings), {@code
 *       status}, {@code duration_ms} (numbers): from the event's key-value pair of that name
 *       ({@code log.atInfo().addKeyValue("status", 200)}), else from the MDC entry of that name.
 *       {@code status} and {@code duration_ms} are written as JSON numbers when the value is a
 *       number or text in JSON number syntax (such as the MDC's {@code "200"}), else as strings.
 *   <li>{@code message}: the formatted message. If formatting throws, the raw message pattern is
 *       written followed by {@code [message formatting failed: <exception class>]}.
 *   <li>{@code metadata}: an object holding every other key-value pair of the event, in the order
 *       they were added, then the MDC entries named by {@link #setIncludeMdcKeys}. Numbers and
 *       booleans stay JSON numbers and booleans; other values are written as their {@code
 *       toString()}, or as {@code [toString() failed: <exception class>]} if that throws. Entries
 *       with a null value are left out.
 *   <li>{@code logger}, {@code thread}: off by default, see {@link #setIncludeLogger} and {@link
 *       #setIncludeThread}.
 *   <li>{@code error}: when the event has a throwable, an object with {@code type}, {@code message}
 *       and {@code stack_trace}, the last in Logback's layout ({@code Caused by:}, {@code
 *       Suppressed:}, common frames elided), bounded by {@link #setMaxStackTraceFrames} and {@link
 *       #setMaxStackTraceLength}; cyclic causes and suppressed throwables are printed once, then as
 *       {@code [CIRCULAR REFERENCE: ...]}.
 *   <li>{@code truncated}: {@code true} only when the line cap forced something out.
 * </ul>
 *
 * <p>Top-level names can be changed with {@link #setFieldNames}; the key-value and MDC names that
 * feed the request fields stay the guide's names.
 *
 * <h2>Names that clash</h2>
 *
 * No line ever holds the same key twice. Top-level keys come only from the schema: a key-value pair
 * or MDC entry named like a request field sets that field (the key-value pair before the MDC entry)
 * and never reaches {@code metadata}, and any other name, even {@code level} or {@code message},
 * stays inside {@code metadata}. Inside {@code metadata}, and among key-value pairs named like a
 * request field, the first occurrence of a name wins and a later duplicate is dropped, which is
 * reported once as a warning on Logback's status. Names are compared as written, so two names that
 * become equal after cutting to the value cap or after surrogate repair count as duplicates.
 *
 * <h2>Valid JSON for any input</h2>
 *
 * Quote, backslash and every character below U+0020 are escaped, so a line never contains a raw
 * line break; so are U+2028 and U+2029. A lone surrogate, which has no UTF-8 form, is replaced by
 * U+FFFD. A message longer than {@link #setMaxMessageLength}, a value or metadata name longer than
 * {@link #setMaxValueLength}, and a stack trace longer than {@link #setMaxStackTraceLength} are cut
 * and end with {@code …[truncated]}; a cut never splits an escape sequence or a surrogate pair. A
 * line never exceeds {@link #setMaxLineBytes}, and one that fits is written whole. One that does
 * not fit is written again with room kept for the flag: where the room runs out, the string being
 * written is cut with the same marker, nothing more is added, the open objects are closed, and
 * {@code "truncated":true} ends the line, so that a cut line always says so.
 *
 * <h2>Failures and threads</h2>
 *
 * Invalid settings are reported as errors by {@link #start()}, which then leaves the encoder
 * stopped; a stopped encoder encodes every event as an empty array. Encoding never throws: a value
 * whose {@code toString()} throws is replaced by a marker, an event whose MDC cannot be read is
 * written without it, and any other failure yields a reduced line with timestamp, level and
 * message; each kind of failure is reported once as a warning. One encoder may be used by several
 * appenders and threads at once; they reuse buffers from a small pool, so that encoding allocates
 * little more than the returned array.
 */
public final class ConeaJsonEncoder extends EncoderBase<ILoggingEvent> {

  static final int DEFAULT_MAX_MESSAGE_LENGTH = 8192;
  static final int DEFAULT_MAX_VALUE_LENGTH = 1024;
  static final int DEFAULT_MAX_STACK_TRACE_LENGTH = 8192;
  static final int DEFAULT_MAX_STACK_TRACE_FRAMES = 64;
  static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024;
  static final int MIN_LINE_BYTES = 1024;
  static final int MAX_LINE_BYTES = 1024 * 1024;
  static final int MAX_FIELD_NAME_LENGTH = 64;

  static final String SERVICE_ENV = "OTEL_SERVICE_NAME";
  static final String SERVICE_PROPERTY = "otel.service.name";

  private static final boolean OPEN_TELEMETRY_PRESENT = isOpenTelemetryPresent();

  private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z0-9_.@-]+");

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] TRACE = quoted("trace");
  private static final byte[] DEBUG = quoted("debug");
  private static final byte[] INFO = quoted("info");
  private static final byte[] WARN = quoted("warn");
  private static final byte[] ERROR = quoted("error");

  private static final byte[] ERROR_TYPE = encodedName("type");
  private static final byte[] ERROR_MESSAGE = encodedName("message");
  private static final byte[] ERROR_STACK_TRACE = encodedName("stack_trace");

  // Bits of `reported`: each kind of failure is reported once per encoder.
  private static final int FORMAT_FAILED = 1;
  private static final int TO_STRING_FAILED = 2;
  private static final int DUPLICATE_NAME = 4;
  private static final int SPAN_FAILED = 8;
  private static final int ENCODING_FAILED = 16;
  private static final int MDC_FAILED = 32;

  private final Function<String, String> environment;
  private final AtomicInteger reported = new AtomicInteger();
  private volatile boolean spanReadable = OPEN_TELEMETRY_PRESENT;

  private String service;
  private String includeMdcKeys = "";
  private String fieldNames = "";
  private boolean includeLogger;
  private boolean includeThread;
  private int maxMessageLength = DEFAULT_MAX_MESSAGE_LENGTH;
  private int maxValueLength = DEFAULT_MAX_VALUE_LENGTH;
  private int maxStackTraceLength = DEFAULT_MAX_STACK_TRACE_LENGTH;
  private int maxStackTraceFrames = DEFAULT_MAX_STACK_TRACE_FRAMES;
  private int maxLineBytes = DEFAULT_MAX_LINE_BYTES;

  private volatile Settings settings;

  /** Creates an encoder with the default settings; Logback calls this for {@code <encoder>}. */
  public ConeaJsonEncoder() {
    this(System::getenv);
  }

  ConeaJsonEncoder(Function<String, String> environment) {
    this.environment = environment;
  }

  /**
   * Sets the value of the {@code service} field. Default: the system property {@value
   * #SERVICE_PROPERTY}, else the environment variable {@value #SERVICE_ENV}, else no {@code
   * service} field; the same order as OpenTelemetry's autoconfiguration, so logs and traces name
   * the service alike. A blank value counts as not set.
   */
  public void setService(String service) {
    this.service = service;
  }

  /**
   * Sets the MDC entries, as a comma-separated list of names, that are written into {@code
   * metadata}. Default: none (the request fields' MDC entries are always read for the request
   * fields and cannot be listed here).
   */
  public void setIncludeMdcKeys(String includeMdcKeys) {
    this.includeMdcKeys = includeMdcKeys;
  }

  /**
   * Renames top-level fields, as a comma-separated list of {@code default=new} pairs such as {@code
   * level=severity,message=msg}. Names are 1 to 64 characters from {@code A-Z a-z 0-9 _ . @ -} and
   * must stay distinct. Default: the guide's names, unchanged.
   */
  public void setFieldNames(String fieldNames) {
    this.fieldNames = fieldNames;
  }

  /** Sets whether the {@code logger} field holds the logger name. Default: false. */
  public void setIncludeLogger(boolean includeLogger) {
    this.includeLogger = includeLogger;
  }

  /** Sets whether the {@code thread} field holds the thread name. Default: false. */
  public void setIncludeThread(boolean includeThread) {
    this.includeThread = includeThread;
  }

  /** Sets the most characters (UTF-16 units) kept of the message. Default: 8192. */
  public void setMaxMessageLength(int maxMessageLength) {
    this.maxMessageLength = maxMessageLength;
  }

  /**
   * Sets the most characters (UTF-16 units) kept of any other value, metadata name and exception
   * message. Default: 1024.
   */
  public void setMaxValueLength(int maxValueLength) {
    this.maxValueLength = maxValueLength;
  }

  /** Sets the most characters (UTF-16 units) kept of a stack trace. Default: 8192. */
  public void setMaxStackTraceLength(int maxStackTraceLength) {
    this.maxStackTraceLength = maxStackTraceLength;
  }

  /**
   * Sets the most frames written per throwable, beyond the frames elided as common with the
   * enclosing trace. Default: 64.
   */
  public void setMaxStackTraceFrames(int maxStackTraceFrames) {
    this.maxStackTraceFrames = maxStackTraceFrames;
  }

  /**
   * Sets the most bytes of one line, its newline included, between 1024 and 1048576. Default:
   * 16384.
   */
  public void setMaxLineBytes(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Checks the settings; on any problem reports it as an error and stays stopped. */
  @Override
  public void start() {
    List<String> problems = new ArrayList<>();
    String logback = LogbackBaseline.problem();
    if (logback != null) {
      problems.add(logback);
    }
    checkRange(problems, "maxMessageLength", maxMessageLength, 1, Integer.MAX_VALUE);
    checkRange(problems, "maxValueLength", maxValueLength, 1, Integer.MAX_VALUE);
    checkRange(problems, "maxStackTraceLength", maxStackTraceLength, 1, Integer.MAX_VALUE);
    checkRange(problems, "maxStackTraceFrames", maxStackTraceFrames, 0, Integer.MAX_VALUE);
    checkRange(problems, "maxLineBytes", maxLineBytes, MIN_LINE_BYTES, MAX_LINE_BYTES);
    String[] names = parseFieldNames(problems);
    String[] mdcKeys = parseMdcKeys(problems);
    if (!problems.isEmpty()) {
      for (String problem : problems) {
        addError(getClass().getSimpleName() + ": " + problem);
      }
      return;
    }
    settings = new Settings(this, names, mdcKeys, resolveService());
    super.start();
  }

  /** Stops the encoder; a stopped encoder encodes every event as an empty array. */
  @Override
  public void stop() {
    settings = null;
    super.stop();
  }

  /** Returns null: a JSON lines stream has no header. */
  @Override
  public byte[] headerBytes() {
    return null;
  }

  /** Returns null: a JSON lines stream has no footer. */
  @Override
  public byte[] footerBytes() {
    return null;
  }

  /** Encodes one event as one line of JSON ending with a newline; never throws. */
  @Override
  public byte[] encode(ILoggingEvent event) {
    Settings current = settings;
    if (current == null || event == null) {
      return EMPTY;
    }
    Scratch scratch = current.scratches.take();
    JsonWriter w = scratch.writer;
    try {
      if (!writeFields(current, scratch, event, current.maxLineBytes - 1)) {
        // Too long for the cap: write it again with room kept back for the flag that says so.
        scratch.clear();
        writeFields(current, scratch, event, current.truncatedEnd);
        w.reservedName(current.names[Field.TRUNCATED.ordinal()]);
        w.booleanValue(true);
      }
      w.endObject();
      w.newline();
      return w.toByteArray();
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      reportOnce(ENCODING_FAILED, "Encoding a log event failed; wrote a reduced line instead", e);
      return reducedLine(current, event, e);
    } finally {
      scratch.clear();
      current.scratches.give(scratch);
    }
  }

  /**
   * Writes the opening brace and every field that fits within {@code end} bytes, leaving the top
   * object open; returns false if something did not fit.
   */
  private boolean writeFields(Settings s, Scratch scratch, ILoggingEvent event, int end) {
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
      stringField(s, w, Field.SERVICE, s.service, s.maxValueLength);
    }

    List<KeyValuePair> pairs = event.getKeyValuePairs();
    int metadataPairs = collectContextPairs(pairs, scratch.context);
    Map<String, String> mdc = mdc(event);

    Object span = currentSpan();
    if (span != null) {
      stringField(s, w, Field.TRACE_ID, CurrentSpan.traceId(span), s.maxValueLength);
      stringField(s, w, Field.SPAN_ID, CurrentSpan.spanId(span), s.maxValueLength);
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
      stringField(s, w, Field.LOGGER, event.getLoggerName(), s.maxValueLength);
    }
    if (s.includeThread) {
      stringField(s, w, Field.THREAD, event.getThreadName(), s.maxValueLength);
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
  private int collectContextPairs(List<KeyValuePair> pairs, Object[] context) {
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

  private int collectContextPair(KeyValuePair pair, Object[] context) {
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
      reportDuplicate(pair.key);
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
      reportOnce(MDC_FAILED, "Reading an event's MDC failed; wrote the event without it", e);
      return Collections.emptyMap();
    }
  }

  private static Object contextValue(Scratch scratch, Map<String, String> mdc, Field field) {
    Object value = scratch.context[field.contextSlot()];
    return value != null ? value : mdc.get(field.defaultName);
  }

  private Object currentSpan() {
    if (!spanReadable) {
      return null;
    }
    try {
      return CurrentSpan.validContext();
    } catch (RuntimeException | LinkageError e) {
      spanReadable = false;
      reportOnce(
          SPAN_FAILED,
          "Reading the current OpenTelemetry span failed; trace ids come from the MDC from now on",
          e);
      return null;
    }
  }

  private static void stringField(
      Settings s, JsonWriter w, Field field, CharSequence value, int maxChars) {
    if (value != null && w.name(s.names[field.ordinal()], JsonWriter.MIN_VALUE_BYTES)) {
      w.string(value, maxChars);
    }
  }

  private void textField(Settings s, JsonWriter w, Field field, Object value) {
    if (value != null) {
      stringField(s, w, field, text(value), s.maxValueLength);
    }
  }

  private void numberField(Settings s, JsonWriter w, Field field, Object value) {
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

  private void message(Settings s, JsonWriter w, ILoggingEvent event) {
    String message;
    String failure = null;
    try {
      message = event.getFormattedMessage();
    } catch (RuntimeException e) {
      reportOnce(
          FORMAT_FAILED, "Formatting a log message failed; wrote its raw pattern instead", e);
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

  private void metadata(
      Settings s,
      Scratch scratch,
      List<KeyValuePair> pairs,
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
    if (metadataPairs > 0) {
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

  private void metadataEntry(Settings s, Scratch scratch, String key, Object value) {
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
      reportDuplicate(key);
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

  private void error(Settings s, Scratch scratch, IThrowableProxy throwable) {
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

  /** The text of a value; never throws. */
  private CharSequence text(Object value) {
    if (value instanceof CharSequence) {
      return (CharSequence) value;
    }
    try {
      return String.valueOf(value);
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      reportOnce(TO_STRING_FAILED, "A logged value's toString() failed; wrote a marker instead", e);
      return "[toString() failed: " + e.getClass().getName() + "]";
    }
  }

  private static byte[] levelValue(Level level) {
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

  private byte[] reducedLine(Settings s, ILoggingEvent event, Throwable failure) {
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

  private void reportDuplicate(String name) {
    if (firstReport(DUPLICATE_NAME)) {
      addWarn(
          getClass().getSimpleName()
              + ": Dropped a key-value pair or MDC entry whose name was already written, the"
              + " first occurrence is kept: '"
              + name
              + "' (reported once)");
    }
  }

  private void reportOnce(int kind, String message, Throwable cause) {
    if (firstReport(kind)) {
      addWarn(getClass().getSimpleName() + ": " + message + " (reported once)", cause);
    }
  }

  private boolean firstReport(int kind) {
    while (true) {
      int bits = reported.get();
      if ((bits & kind) != 0) {
        return false;
      }
      if (reported.compareAndSet(bits, bits | kind)) {
        return true;
      }
    }
  }

  private String resolveService() {
    if (service != null && !service.isBlank()) {
      return service;
    }
    String fromProperty = System.getProperty(SERVICE_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return fromProperty;
    }
    String fromEnvironment = environment.apply(SERVICE_ENV);
    if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      return fromEnvironment;
    }
    return null;
  }

  private String[] parseFieldNames(List<String> problems) {
    String[] names = new String[Field.values().length];
    for (Field field : Field.values()) {
      names[field.ordinal()] = field.defaultName;
    }
    Set<Field> renamed = new HashSet<>();
    for (String entry : split(fieldNames)) {
      int equals = entry.indexOf('=');
      String from = equals < 0 ? entry : entry.substring(0, equals).trim();
      String to = equals < 0 ? "" : entry.substring(equals + 1).trim();
      Field field = Field.forDefaultName(from);
      if (equals < 0) {
        problems.add("fieldNames entry '" + entry + "' is not of the form default=new");
      } else if (field == null) {
        problems.add(
            "fieldNames renames unknown field '" + from + "'; known fields: " + defaultNames());
      } else if (!renamed.add(field)) {
        problems.add("fieldNames renames '" + from + "' twice");
      } else if (to.length() > MAX_FIELD_NAME_LENGTH || !FIELD_NAME.matcher(to).matches()) {
        problems.add(
            "fieldNames gives '"
                + from
                + "' the name '"
                + to
                + "'; a name is 1 to "
                + MAX_FIELD_NAME_LENGTH
                + " characters from A-Z a-z 0-9 _ . @ -");
      } else {
        names[field.ordinal()] = to;
      }
    }
    Set<String> distinct = new HashSet<>();
    for (String name : names) {
      if (!distinct.add(name)) {
        problems.add("fieldNames gives two fields the name '" + name + "'");
      }
    }
    return names;
  }

  private String[] parseMdcKeys(List<String> problems) {
    List<String> keys = split(includeMdcKeys);
    Set<String> distinct = new HashSet<>();
    for (String key : keys) {
      if (Field.forContextKey(key) != null) {
        problems.add(
            "includeMdcKeys lists '"
                + key
                + "', which is read for the top-level field of that name already");
      } else if (!distinct.add(key)) {
        problems.add("includeMdcKeys lists '" + key + "' twice");
      }
    }
    return keys.toArray(new String[0]);
  }

  private static List<String> split(String list) {
    List<String> items = new ArrayList<>();
    if (list == null) {
      return items;
    }
    for (String item : list.split(",")) {
      String trimmed = item.trim();
      if (!trimmed.isEmpty()) {
        items.add(trimmed);
      }
    }
    return items;
  }

  private static String defaultNames() {
    List<String> names = new ArrayList<>();
    for (Field field : Field.values()) {
      names.add(field.defaultName);
    }
    return String.join(", ", names);
  }

  private static void checkRange(List<String> problems, String name, int value, int min, int max) {
    if (value < min || value > max) {
      problems.add(
          name
              + " must be "
              + (max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max)
              + ", was "
              + value);
    }
  }

  private static boolean isOpenTelemetryPresent() {
    try {
      Class.forName(
          "io.opentelemetry.api.trace.Span", false, ConeaJsonEncoder.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static byte[] quoted(String value) {
    return ('"' + value + '"').getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encodedName(String name) {
    return ('"' + name + "\":").getBytes(StandardCharsets.UTF_8);
  }

  /** The settings checked by {@link #start()}, fixed until the encoder stops. */
  private static final class Settings {
    final byte[][] names;
    final String service;
    final String[] mdcKeys;
    final boolean includeLogger;
    final boolean includeThread;
    final int maxMessageLength;
    final int maxValueLength;
    final int maxStackTraceLength;
    final int maxStackTraceFrames;
    final int maxLineBytes;
    final int truncatedEnd;
    final Scratch.Pool scratches;

    Settings(ConeaJsonEncoder encoder, String[] names, String[] mdcKeys, String service) {
      this.names = new byte[names.length][];
      for (int i = 0; i < names.length; i++) {
        this.names[i] = encodedName(names[i]);
      }
      this.service = service;
      this.mdcKeys = mdcKeys;
      this.includeLogger = encoder.includeLogger;
      this.includeThread = encoder.includeThread;
      this.maxMessageLength = encoder.maxMessageLength;
      this.maxValueLength = encoder.maxValueLength;
      this.maxStackTraceLength = encoder.maxStackTraceLength;
      this.maxStackTraceFrames = encoder.maxStackTraceFrames;
      this.maxLineBytes = encoder.maxLineBytes;
      // Kept back on a line that is too long: the newline and ,"truncated":true.
      this.truncatedEnd = maxLineBytes - 1 - (1 + this.names[Field.TRUNCATED.ordinal()].length + 4);
      this.scratches = new Scratch.Pool(maxLineBytes, maxStackTraceFrames);
    }
  }
}
