package io.conea.metrics.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * conea's one way of reporting a problem: each kind is logged once as a warning (later ones at
 * debug level) and every occurrence is counted, so that a broken registry, exporter or library
 * cannot flood the log it is meant to help. At most {@value #MAX_KINDS} kinds are remembered; past
 * them, new kinds are only counted.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class Problems {

  /** How many distinct kinds are remembered. */
  public static final int MAX_KINDS = 256;

  private final Set<String> reported = ConcurrentHashMap.newKeySet();
  private final LongAdder count = new LongAdder();

  /**
   * Returns true the first time it sees {@code kind}. The check comes before the insert so that
   * repeated problems on a recording path do not allocate.
   */
  public boolean firstTime(String kind) {
    return !reported.contains(kind) && reported.size() < MAX_KINDS && reported.add(kind);
  }

  /**
   * Counts one problem of {@code kind}; logs {@code message} with {@code cause} as a warning the
   * first time, at debug level later. Never throws, even if the log does.
   */
  public void report(Logger logger, String kind, String message, Throwable cause) {
    count.increment();
    try {
      if (firstTime(kind)) {
        logger.warn(message, cause);
      } else if (logger.isDebugEnabled()) {
        logger.debug(message, cause);
      }
    } catch (RuntimeException | LinkageError loggingFailure) {
      // The log itself is broken; the count still tells.
    }
  }

  /** Returns how many problems were reported. */
  public long count() {
    return count.sum();
  }
}
