package io.conea.logging;

import ch.qos.logback.core.spi.ContextAware;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reports the failures met while encoding as warnings on Logback's status, each kind once per
 * encoder, so that a failure repeated on every event neither floods the status nor costs more than
 * one check.
 *
 * <p>Never through SLF4J: an encoder must not log through the logger it serves. The warnings are
 * added by the encoder itself, so that the status names it as their origin.
 */
final class FailureReporter {

  /** The kinds of failure, each reported once; what the encoder did instead is in the message. */
  enum Failure {
    FORMAT("Formatting a log message failed; wrote its raw pattern instead"),
    TO_STRING("A logged value's toString() failed; wrote a marker instead"),
    DUPLICATE_NAME(
        "Dropped a key-value pair or MDC entry whose name was already written, the first"
            + " occurrence is kept"),
    SPAN("Reading the current OpenTelemetry span failed; trace ids come from the MDC from now on"),
    ENCODING("Encoding a log event failed; wrote a reduced line instead"),
    MDC("Reading an event's MDC failed; wrote the event without it");

    final String message;

    Failure(String message) {
      this.message = message;
    }

    /** This kind's bit in {@link #reported}. */
    int bit() {
      return 1 << ordinal();
    }
  }

  private final ContextAware owner;

  /** The bits of the kinds reported so far. */
  private final AtomicInteger reported = new AtomicInteger();

  /** Reports through {@code owner}, the encoder. */
  FailureReporter(ContextAware owner) {
    this.owner = owner;
  }

  /** Reports a failure of this kind with its cause, unless one was reported before. */
  void once(Failure failure, Throwable cause) {
    if (firstReport(failure)) {
      owner.addWarn(prefix() + failure.message + " (reported once)", cause);
    }
  }

  /** Reports that a name already written was dropped, unless that was reported before. */
  void duplicateName(String name) {
    if (firstReport(Failure.DUPLICATE_NAME)) {
      owner.addWarn(prefix() + Failure.DUPLICATE_NAME.message + ": '" + name + "' (reported once)");
    }
  }

  private String prefix() {
    return owner.getClass().getSimpleName() + ": ";
  }

  private boolean firstReport(Failure failure) {
    int bit = failure.bit();
    while (true) {
      int bits = reported.get();
      if ((bits & bit) != 0) {
        return false;
      }
      if (reported.compareAndSet(bits, bits | bit)) {
        return true;
      }
    }
  }
}
