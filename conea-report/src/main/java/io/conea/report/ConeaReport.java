package io.conea.report;

import io.conea.report.Arguments.UsageException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The conea-report command line: {@code slo}, {@code capacity} and {@code alerts}, the monitoring
 * guide's automation script made a tool. {@link #run(String[], PrintStream, PrintStream)} runs one
 * command in process and returns its exit code; {@link #main(String[])} exits with it.
 */
public final class ConeaReport {

  /** Exit code: the report was made (slo: every SLO met). */
  public static final int OK = 0;

  /** Exit code of {@code slo}: an SLO is missed. */
  public static final int SLO_MISSED = 1;

  /**
   * Exit code: the report could not be made (bad usage, unreadable SLO file, server unreachable,
   * HTTP or query error, no data).
   */
  public static final int CANNOT_EVALUATE = ReportException.CANNOT_EVALUATE;

  static final String USAGE =
      """
      Usage: conea-report COMMAND [OPTIONS]

      The monitoring guide's automation (監視の自動化) as a tool, on the Prometheus and Alertmanager
      HTTP APIs.

      Commands:
        slo       SLO compliance, error budget left and 1 h burn rate of each SLO of an SLO file
        capacity  CPU, memory and disk usage from node exporter, per instance and averaged
        alerts    the firing alerts of an Alertmanager, grouped by severity

      Each command prints a table, or JSON with --json. Run conea-report COMMAND --help for its
      options.

      Exit codes: 0 done (slo: every SLO met), 1 an SLO missed, 2 the report could not be made
      (bad usage, Prometheus or Alertmanager unreachable, HTTP or query error, no data); 1 and 2
      come with a one-line reason on stderr.
      """;

  private ConeaReport() {}

  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  /** Runs one command with the working directory of the process; returns its exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, Path.of("").toAbsolutePath());
  }

  /**
   * Runs one command, resolving relative paths (the SLO file) against {@code workingDir}; returns
   * its exit code.
   */
  public static int run(String[] args, PrintStream out, PrintStream err, Path workingDir) {
    return run(List.of(args), new Context(out, err, workingDir, Clock.systemUTC()));
  }

  static int run(List<String> args, Context context) {
    if (args.isEmpty()) {
      context.err().print(USAGE);
      return CANNOT_EVALUATE;
    }
    String command = args.get(0);
    List<String> rest = args.subList(1, args.size());
    if (command.equals("--help") || command.equals("-h") || command.equals("help")) {
      context.out().print(USAGE);
      return OK;
    }
    String usage =
        switch (command) {
          case "slo" -> SloCommand.USAGE;
          case "capacity" -> CapacityCommand.USAGE;
          case "alerts" -> AlertsCommand.USAGE;
          default -> null;
        };
    if (usage == null) {
      context
          .err()
          .println(
              "conea-report: "
                  + (command.startsWith("-")
                      ? "unknown option " + command + " before the command"
                      : "unknown command '" + command + "'")
                  + " (commands: slo, capacity, alerts; see conea-report --help)");
      return CANNOT_EVALUATE;
    }
    if (Arguments.wantsHelp(rest)) {
      context.out().print(usage);
      return OK;
    }
    try {
      return switch (command) {
        case "slo" -> SloCommand.run(rest, context);
        case "capacity" -> CapacityCommand.run(rest, context);
        default -> AlertsCommand.run(rest, context);
      };
    } catch (UsageException e) {
      context
          .err()
          .println(
              "conea-report "
                  + command
                  + ": "
                  + e.getMessage()
                  + " (see conea-report "
                  + command
                  + " --help)");
      return CANNOT_EVALUATE;
    } catch (ReportException e) {
      context.err().println("conea-report " + command + ": " + e.getMessage());
      return e.exitCode();
    } catch (RuntimeException e) {
      context
          .err()
          .println(
              "conea-report "
                  + command
                  + ": internal error: "
                  + ReportException.oneLine(String.valueOf(e)));
      e.printStackTrace(context.err());
      return CANNOT_EVALUATE;
    } finally {
      context.out().flush();
    }
  }
}
