package io.conea.tracing;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Polls for what other threads (servers, event loops, exporters) make true, with a deadline. */
public final class Await {

  private static final long TIMEOUT_SECONDS = 5;

  private Await() {}

  /** Returns once the condition holds; fails the test after 5 seconds. */
  public static void until(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + TIMEOUT_SECONDS + " seconds");
      }
      Thread.sleep(5);
    }
  }
}
