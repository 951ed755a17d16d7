package io.conea.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The options of one command: {@code --name value}, {@code --name=value} and flags ({@code
 * --json}). Anything else (an unknown option, a missing value, a positional argument) is a usage
 * error that names the offending arguments.
 */
final class Arguments {

  private final Map<String, String> values;
  private final Set<String> flags;

  private Arguments(Map<String, String> values, Set<String> flags) {
    this.values = values;
    this.flags = flags;
  }

  /** True when {@code args} ask for help ({@code --help} or {@code -h} anywhere). */
  static boolean wantsHelp(List<String> args) {
    return args.contains("--help") || args.contains("-h");
  }

  /**
   * Parses {@code args} against the options that take a value and the flags (names with their
   * leading dashes). A repeated option keeps its last value.
   */
  static Arguments parse(List<String> args, Set<String> valueOptions, Set<String> flagOptions)
      throws UsageException {
    Map<String, String> values = new HashMap<>();
    Set<String> flags = new HashSet<>();
    Set<String> unknown = new LinkedHashSet<>();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("-") || arg.equals("-")) {
        problems.add("unexpected argument '" + arg + "'");
        continue;
      }
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg : arg.substring(0, equals);
      String inline = equals < 0 ? null : arg.substring(equals + 1);
      if (valueOptions.contains(name)) {
        String value = inline;
        if (value == null) {
          if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
            value = args.get(++i);
          } else {
            problems.add(name + " needs a value");
            continue;
          }
        }
        if (value.isBlank()) {
          problems.add(name + " needs a value");
          continue;
        }
        values.put(name, value);
      } else if (flagOptions.contains(name)) {
        if (inline != null) {
          problems.add(name + " takes no value");
          continue;
        }
        flags.add(name);
      } else {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      problems.add(
          0,
          (unknown.size() == 1 ? "unknown option " : "unknown options ")
              + String.join(", ", unknown));
    }
    if (!problems.isEmpty()) {
      throw new UsageException(String.join("; ", problems));
    }
    return new Arguments(values, flags);
  }

  @Nullable String value(String name) {
    return values.get(name);
  }

  String value(String name, String otherwise) {
    return values.getOrDefault(name, otherwise);
  }

  /** The value of a required option. */
  String required(String name) throws UsageException {
    String value = values.get(name);
    if (value == null) {
      throw new UsageException("missing " + name);
    }
    return value;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  /** A command line that does not parse: exit code 2, and a hint to {@code --help}. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
