package io.conea.tracing;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts instrumentation failures and logs the first one of each kind as a warning, later ones at
 * debug level, so that a broken exporter or registry cannot flood the log it is meant to help.
 */
final class Failures {

  private static final Logger logger = LoggerFactory.getLogger("io.conea.tracing");

  private final LongAdder count = new LongAdder();
  private final ConcurrentHashMap<String, Boolean> reported = new ConcurrentHashMap<>();

  void report(String what, Throwable failure) {
    count.increment();
    try {
      if (reported.size() < 64 && reported.putIfAbsent(what, Boolean.TRUE) == null) {
        logger.warn(
            "HTTP instrumentation failed while {}; the request is served without it. Later"
                + " failures of this kind are counted and logged at debug level.",
            what,
            failure);
      } else if (logger.isDebugEnabled()) {
        logger.debug("HTTP instrumentation failed while {}", what, failure);
      }
    } catch (RuntimeException | LinkageError loggingFailure) {
      // The log itself is broken; the count still tells.
    }
  }

  long count() {
    return count.sum();
  }
}
