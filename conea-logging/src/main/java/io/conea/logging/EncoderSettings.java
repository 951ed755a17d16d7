package io.conea.logging;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The settings checked by {@link ConeaJsonEncoder#start()}, fixed until the encoder stops, in the
 * form the writing of each event reads them: names already encoded, lists already split.
 *
 * <p>They are made by a {@link Builder}, which holds the values as configured (set by the encoder's
 * Joran setters, defaults otherwise) and parses and checks them. The defaults and limits that the
 * setters document are {@link ConeaJsonEncoder}'s constants.
 */
final class EncoderSettings {

  static final int MAX_FIELD_NAME_LENGTH = 64;

  private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z0-9_.@-]+");

  private static final Range MESSAGE_LENGTH = Range.atLeast("maxMessageLength", 1);
  private static final Range VALUE_LENGTH = Range.atLeast("maxValueLength", 1);
  private static final Range STACK_TRACE_LENGTH = Range.atLeast("maxStackTraceLength", 1);
  private static final Range STACK_TRACE_FRAMES = Range.atLeast("maxStackTraceFrames", 0);
  private static final Range LINE_BYTES =
      new Range("maxLineBytes", ConeaJsonEncoder.MIN_LINE_BYTES, ConeaJsonEncoder.MAX_LINE_BYTES);

  /** The top-level names, pre-encoded as {@code "name":}, by {@link Field#ordinal()}. */
  final byte[][] names;

  final @Nullable String service;
  final String[] mdcKeys;
  final boolean includeLogger;
  final boolean includeThread;
  final int maxMessageLength;
  final int maxValueLength;
  final int maxStackTraceLength;
  final int maxStackTraceFrames;
  final int maxLineBytes;

  /** The budget of a line written again because it was too long, see {@link JsonWriter#reset}. */
  final int truncatedEnd;

  /** The buffers sized by these settings, which live as long as they do. */
  final Scratch.Pool scratches;

  private EncoderSettings(
      Builder configured, String[] names, String[] mdcKeys, @Nullable String service) {
    this.names = new byte[names.length][];
    for (int i = 0; i < names.length; i++) {
      this.names[i] = JsonWriter.encodedName(names[i]);
    }
    this.service = service;
    this.mdcKeys = mdcKeys;
    this.includeLogger = configured.includeLogger;
    this.includeThread = configured.includeThread;
    this.maxMessageLength = configured.maxMessageLength;
    this.maxValueLength = configured.maxValueLength;
    this.maxStackTraceLength = configured.maxStackTraceLength;
    this.maxStackTraceFrames = configured.maxStackTraceFrames;
    this.maxLineBytes = configured.maxLineBytes;
    // Kept back on a line that is too long: the newline and ,"truncated":true.
    this.truncatedEnd = maxLineBytes - 1 - (1 + this.names[Field.TRUNCATED.ordinal()].length + 4);
    this.scratches = new Scratch.Pool(maxLineBytes, maxStackTraceFrames);
  }

  /**
   * The settings as configured, with their defaults; one per encoder, written by its setters. Read
   * and written like the encoder's other configuration: before {@code start()}, by one thread.
   */
  static final class Builder {
    private final Function<String, @Nullable String> environment;

    @Nullable String service;
    @Nullable String includeMdcKeys = "";
    @Nullable String fieldNames = "";
    boolean includeLogger;
    boolean includeThread;
    int maxMessageLength = ConeaJsonEncoder.DEFAULT_MAX_MESSAGE_LENGTH;
    int maxValueLength = ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH;
    int maxStackTraceLength = ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_LENGTH;
    int maxStackTraceFrames = ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_FRAMES;
    int maxLineBytes = ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES;

    /** {@code environment} reads environment variables, for the default service name. */
    Builder(Function<String, @Nullable String> environment) {
      this.environment = environment;
    }

    /**
     * Checks the settings, adding each problem to {@code problems}; returns them parsed, or null if
     * {@code problems} then holds any problem, this method's or one added before.
     */
    @Nullable EncoderSettings build(List<String> problems) {
      MESSAGE_LENGTH.check(maxMessageLength, problems);
      VALUE_LENGTH.check(maxValueLength, problems);
      STACK_TRACE_LENGTH.check(maxStackTraceLength, problems);
      STACK_TRACE_FRAMES.check(maxStackTraceFrames, problems);
      LINE_BYTES.check(maxLineBytes, problems);
      String[] names = parseFieldNames(problems);
      String[] mdcKeys = parseMdcKeys(problems);
      if (!problems.isEmpty()) {
        return null;
      }
      return new EncoderSettings(this, names, mdcKeys, resolveService());
    }

    private @Nullable String resolveService() {
      if (service != null && !service.isBlank()) {
        return service;
      }
      String fromProperty = System.getProperty(ConeaJsonEncoder.SERVICE_PROPERTY);
      if (fromProperty != null && !fromProperty.isBlank()) {
        return fromProperty;
      }
      String fromEnvironment = environment.apply(ConeaJsonEncoder.SERVICE_ENV);
      if (fromEnvironment != null && !fromEnvironment.isBlank()) {
        return fromEnvironment;
      }
      return null;
    }

    /** The top-level names by {@link Field#ordinal()}: the defaults, renamed by fieldNames. */
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
  }

  /** The non-blank items of a comma-separated list, trimmed; none for null. */
  private static List<String> split(@Nullable String list) {
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

  /** The values a numeric setting accepts, from {@code min} to {@code max} inclusive. */
  private record Range(String setting, int min, int max) {

    static Range atLeast(String setting, int min) {
      return new Range(setting, min, Integer.MAX_VALUE);
    }

    void check(int value, List<String> problems) {
      if (value < min || value > max) {
        problems.add(
            setting
                + " must be "
                + (max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max)
                + ", was "
                + value);
      }
    }
  }
}
