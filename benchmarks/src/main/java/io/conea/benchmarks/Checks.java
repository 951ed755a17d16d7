package io.conea.benchmarks;

/**
 * Checks a benchmark makes on its own output at tear-down, so that a run that measured nothing (a
 * meter never registered, a span never exported) fails instead of reporting a flattering figure.
 */
final class Checks {

  private Checks() {}

  static void check(boolean condition, String failure) {
    if (!condition) {
      throw new IllegalStateException(failure);
    }
  }
}
