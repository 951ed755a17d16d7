package io.conea.tracing;

import io.conea.metrics.internal.Problems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP instrumentation's failures: counted, and each kind logged once (see {@link Problems}).
 */
final class Failures {

  private static final Logger logger = LoggerFactory.getLogger("io.conea.tracing");

  private final Problems problems = new Problems();

  void report(String what, Throwable failure) {
    problems.report(
        logger,
        what,
        "HTTP instrumentation failed while "
            + what
            + "; the request is served without it. Later failures of this kind are counted and"
            + " logged at debug level.",
        failure);
  }

  long count() {
    return problems.count();
  }
}
