package io.conea.monitoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Fluent Bit configuration in the classic format (sections of indented "Key value" lines), read
 * strictly, and a model of what its {@code loki} output makes of a record: the stream labels and
 * the log line, following plugins/out_loki/loki.c (labels from fixed values and record accessors,
 * keys read by a label accessor and {@code Remove_Keys} removed from the line, {@code
 * Drop_Single_Key}, {@code Line_Format}).
 */
final class FluentBitConfig {

  /** One [SECTION] with its entries in order; keys are case-insensitive, as in Fluent Bit. */
  record Section(String name, int line, List<Map.Entry<String, String>> entries) {

    Optional<String> get(String key) {
      List<String> values =
          entries.stream()
              .filter(e -> e.getKey().equalsIgnoreCase(key))
              .map(Map.Entry::getValue)
              .toList();
      if (values.size() > 1) {
        throw new IllegalArgumentException(
            "[" + name + "] at line " + line + " sets " + key + " " + values.size() + " times");
      }
      return values.stream().findFirst();
    }

    String require(String key) {
      return get(key)
          .orElseThrow(
              () ->
                  new IllegalArgumentException(
                      "[" + name + "] at line " + line + " has no " + key));
    }

    /** A comma-separated value, its items trimmed (Fluent Bit's CLIST). */
    List<String> list(String key) {
      return get(key)
          .map(value -> Arrays.stream(value.split(",")).map(String::strip).toList())
          .orElse(List.of());
    }

    /** A boolean property (On/Off, true/false, yes/no), or the default when it is not set. */
    boolean flag(String key, boolean defaultValue) {
      return get(key)
          .map(
              value ->
                  switch (value.toLowerCase(Locale.ROOT)) {
                    case "on", "true", "yes" -> true;
                    case "off", "false", "no" -> false;
                    default ->
                        throw new IllegalArgumentException(
                            "[" + name + "] " + key + " is not a boolean: " + value);
                  })
          .orElse(defaultValue);
    }
  }

  private static final Pattern SECTION = Pattern.compile("\\[([A-Z_]+)\\]");
  private static final Pattern ENTRY = Pattern.compile("(\\s+)(\\S+)\\s+(\\S.*)");

  final List<Section> sections;

  private FluentBitConfig(List<Section> sections) {
    this.sections = sections;
  }

  /**
   * Reads the classic format as Fluent Bit does, and refuses what it would refuse: an entry outside
   * a section, an unindented entry, tabs mixed into the indentation, indentation that changes
   * within a section, a key without a value.
   */
  static FluentBitConfig parse(String text) {
    List<Section> sections = new ArrayList<>();
    Section current = null;
    String indent = null;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].stripTrailing();
      int number = i + 1;
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      Matcher section = SECTION.matcher(line);
      if (section.matches()) {
        current = new Section(section.group(1), number, new ArrayList<>());
        sections.add(current);
        indent = null;
        continue;
      }
      if (line.startsWith("@")) {
        throw new IllegalArgumentException(
            "line " + number + ": directives are not expected: " + line);
      }
      Matcher entry = ENTRY.matcher(line);
      if (current == null || !entry.matches()) {
        throw new IllegalArgumentException(
            "line " + number + " is neither a section nor an indented 'Key value': " + line);
      }
      if (entry.group(1).contains("\t")) {
        throw new IllegalArgumentException("line " + number + " is indented with a tab");
      }
      if (indent == null) {
        indent = entry.group(1);
      } else if (!indent.equals(entry.group(1))) {
        throw new IllegalArgumentException(
            "line "
                + number
                + " is indented differently from the rest of ["
                + current.name()
                + "]");
      }
      current.entries().add(Map.entry(entry.group(2), entry.group(3).strip()));
    }
    return new FluentBitConfig(sections);
  }

  List<Section> sections(String name) {
    return sections.stream().filter(section -> section.name().equals(name)).toList();
  }

  /** The one [kind] section whose Name is {@code plugin}, e.g. ("OUTPUT", "loki"). */
  Section plugin(String kind, String plugin) {
    List<Section> found =
        sections(kind).stream()
            .filter(section -> section.require("Name").equalsIgnoreCase(plugin))
            .toList();
    if (found.size() != 1) {
      throw new IllegalArgumentException(
          "expected one [" + kind + "] with Name " + plugin + ", found " + found.size());
    }
    return found.get(0);
  }

  /** Whether a Match pattern (with * wildcards) matches a tag. */
  static boolean matches(String pattern, String tag) {
    String regex =
        Arrays.stream(pattern.split("\\*", -1))
            .map(Pattern::quote)
            .reduce((a, b) -> a + ".*" + b)
            .orElse("");
    return tag.matches(regex);
  }

  /** A Fluent Bit record accessor such as {@code $kubernetes['labels']['app']}: its key path. */
  static List<String> accessor(String pattern) {
    Matcher matcher = Pattern.compile("\\$([A-Za-z0-9_.-]+)((?:\\['[^']*'\\])*)").matcher(pattern);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("not a record accessor: " + pattern);
    }
    List<String> path = new ArrayList<>();
    path.add(matcher.group(1));
    Matcher sub = Pattern.compile("\\['([^']*)'\\]").matcher(matcher.group(2));
    while (sub.find()) {
      path.add(sub.group(1));
    }
    return path;
  }

  /** The value at a key path of a record, if it is there and is not a map. */
  static Optional<String> lookUp(Map<String, ?> record, List<String> path) {
    Object value = record;
    for (String key : path) {
      if (!(value instanceof Map<?, ?> map) || !map.containsKey(key)) {
        return Optional.empty();
      }
      value = map.get(key);
    }
    return value == null || value instanceof Map<?, ?>
        ? Optional.empty()
        : Optional.of(value.toString());
  }

  /** What the loki output of this configuration sends for one record. */
  record LokiEntry(Map<String, String> labels, String line) {}

  /** The loki output's stream labels and line for {@code record}. */
  LokiEntry ship(Map<String, Object> record) {
    Section loki = plugin("OUTPUT", "loki");
    Map<String, String> labels = new LinkedHashMap<>();
    List<List<String>> removed = new ArrayList<>();
    for (String label : loki.list("Labels")) {
      int equals = label.indexOf('=');
      if (label.startsWith("$") || equals < 0) {
        throw new IllegalArgumentException("only key=value labels are modelled: " + label);
      }
      String name = label.substring(0, equals).strip();
      String value = label.substring(equals + 1).strip();
      if (value.startsWith("$")) {
        List<String> path = accessor(value);
        removed.add(path);
        // An accessor that finds nothing (or an empty value) adds no label.
        lookUp(record, path).filter(v -> !v.isEmpty()).ifPresent(v -> labels.put(name, v));
      } else {
        labels.put(name, value);
      }
    }
    if (labels.isEmpty()) {
      labels.put("job", "fluent-bit");
    }
    for (String key : loki.list("Remove_Keys")) {
      removed.add(key.startsWith("$") ? accessor(key) : List.of(key));
    }
    Map<String, Object> line = copy(record);
    if (!loki.list("Remove_Keys").isEmpty()) {
      removed.forEach(path -> remove(line, path));
    }
    String format = loki.get("Line_Format").orElse("json").toLowerCase(Locale.ROOT);
    String drop = loki.get("Drop_Single_Key").orElse("off").toLowerCase(Locale.ROOT);
    if (!format.equals("json")) {
      throw new IllegalArgumentException("only Line_Format json is modelled");
    }
    Object payload = line;
    if (!drop.equals("off") && !drop.equals("false") && line.size() == 1) {
      Object single = line.values().iterator().next();
      if (drop.equals("raw") && single instanceof String string) {
        return new LokiEntry(labels, string);
      }
      payload = single;
    }
    try {
      return new LokiEntry(labels, Assets.JSON.writeValueAsString(payload));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copy(Map<String, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach(
        (key, value) ->
            copy.put(
                key, value instanceof Map<?, ?> nested ? copy((Map<String, ?>) nested) : value));
    return copy;
  }

  @SuppressWarnings("unchecked")
  private static void remove(Map<String, Object> record, List<String> path) {
    Map<String, Object> map = record;
    for (String key : path.subList(0, path.size() - 1)) {
      if (!(map.get(key) instanceof Map<?, ?> nested)) {
        return;
      }
      map = (Map<String, Object>) nested;
    }
    map.remove(path.get(path.size() - 1));
  }
}
