package io.conea.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

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

  // The defaults and limits that the setters document; EncoderSettings applies and checks them.
  static final int DEFAULT_MAX_MESSAGE_LENGTH = 8192;
  static final int DEFAULT_MAX_VALUE_LENGTH = 1024;
  static final int DEFAULT_MAX_STACK_TRACE_LENGTH = 8192;
  static final int DEFAULT_MAX_STACK_TRACE_FRAMES = 64;
  static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024;
  static final int MIN_LINE_BYTES = 1024;
  static final int MAX_LINE_BYTES = 1024 * 1024;

  static final String SERVICE_ENV = "OTEL_SERVICE_NAME";
  static final String SERVICE_PROPERTY = "otel.service.name";

  private static final byte[] EMPTY = new byte[0];

  /** The settings as configured; checked and parsed by {@link #start()}. */
  private final EncoderSettings.Builder configured;

  /** Writes the events; holds what outlives a restart: which failures were reported. */
  private final EventWriter writer;

  /** The settings checked by {@link #start()}, null while the encoder is stopped. */
  private volatile @Nullable EncoderSettings settings;

  /** Creates an encoder with the default settings; Logback calls this for {@code <encoder>}. */
  public ConeaJsonEncoder() {
    this(System::getenv);
  }

  ConeaJsonEncoder(Function<String, @Nullable String> environment) {
    this.configured = new EncoderSettings.Builder(environment);
    this.writer = new EventWriter(new FailureReporter(this));
  }

  /**
   * Sets the value of the {@code service} field. Default: the system property {@value
   * #SERVICE_PROPERTY}, else the environment variable {@value #SERVICE_ENV}, else no {@code
   * service} field; the same order as OpenTelemetry's autoconfiguration, so logs and traces name
   * the service alike. A blank value counts as not set.
   */
  public void setService(@Nullable String service) {
    configured.service = service;
  }

  /**
   * Sets the MDC entries, as a comma-separated list of names, that are written into {@code
   * metadata}. Default: none (the request fields' MDC entries are always read for the request
   * fields and cannot be listed here).
   */
  public void setIncludeMdcKeys(@Nullable String includeMdcKeys) {
    configured.includeMdcKeys = includeMdcKeys;
  }

  /**
   * Renames top-level fields, as a comma-separated list of {@code default=new} pairs such as {@code
   * level=severity,message=msg}. Names are 1 to 64 characters from {@code A-Z a-z 0-9 _ . @ -} and
   * must stay distinct. Default: the guide's names, unchanged.
   */
  public void setFieldNames(@Nullable String fieldNames) {
    configured.fieldNames = fieldNames;
  }

  /** Sets whether the {@code logger} field holds the logger name. Default: false. */
  public void setIncludeLogger(boolean includeLogger) {
    configured.includeLogger = includeLogger;
  }

  /** Sets whether the {@code thread} field holds the thread name. Default: false. */
  public void setIncludeThread(boolean includeThread) {
    configured.includeThread = includeThread;
  }

  /** Sets the most characters (UTF-16 units) kept of the message. Default: 8192. */
  public void setMaxMessageLength(int maxMessageLength) {
    configured.maxMessageLength = maxMessageLength;
  }

  /**
   * Sets the most characters (UTF-16 units) kept of any other value, metadata name and exception
   * message. Default: 1024.
   */
  public void setMaxValueLength(int maxValueLength) {
    configured.maxValueLength = maxValueLength;
  }

  /** Sets the most characters (UTF-16 units) kept of a stack trace. Default: 8192. */
  public void setMaxStackTraceLength(int maxStackTraceLength) {
    configured.maxStackTraceLength = maxStackTraceLength;
  }

  /**
   * Sets the most frames written per throwable, beyond the frames elided as common with the
   * enclosing trace. Default: 64.
   */
  public void setMaxStackTraceFrames(int maxStackTraceFrames) {
    configured.maxStackTraceFrames = maxStackTraceFrames;
  }

  /**
   * Sets the most bytes of one line, its newline included, between 1024 and 1048576. Default:
   * 16384.
   */
  public void setMaxLineBytes(int maxLineBytes) {
    configured.maxLineBytes = maxLineBytes;
  }

  /** Checks the settings; on any problem reports it as an error and stays stopped. */
  @Override
  public void start() {
    List<String> problems = new ArrayList<>();
    String logback = LogbackBaseline.problem();
    if (logback != null) {
      problems.add(logback);
    }
    EncoderSettings checked = configured.build(problems);
    if (checked == null) {
      for (String problem : problems) {
        addError(getClass().getSimpleName() + ": " + problem);
      }
      return;
    }
    settings = checked;
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
  public byte @Nullable [] headerBytes() {
    return null;
  }

  /** Returns null: a JSON lines stream has no footer. */
  @Override
  public byte @Nullable [] footerBytes() {
    return null;
  }

  /** Encodes one event as one line of JSON ending with a newline; never throws. */
  @Override
  public byte[] encode(@Nullable ILoggingEvent event) {
    EncoderSettings current = settings;
    if (current == null || event == null) {
      return EMPTY;
    }
    return writer.encode(current, event);
  }
}
