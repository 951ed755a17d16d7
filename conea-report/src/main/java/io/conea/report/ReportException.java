package io.conea.report;

/**
 * Why a command could not finish, with the process exit code it ends with. The message is one line
 * (no trailing period), printed on stderr after {@code conea-report: }.
 */
final class ReportException extends Exception {

  private static final long serialVersionUID = 1L;

  /**
   * The exit code of a report that could not be made: usage errors, unreachable servers, no data.
   */
  static final int CANNOT_EVALUATE = 2;

  private final int exitCode;

  ReportException(int exitCode, String message) {
    super(oneLine(message));
    this.exitCode = exitCode;
  }

  ReportException(String message) {
    this(CANNOT_EVALUATE, message);
  }

  int exitCode() {
    return exitCode;
  }

  /** {@code text} with every run of white space (new lines included) collapsed to one space. */
  static String oneLine(String text) {
    return text.strip().replaceAll("\\s+", " ");
  }
}
