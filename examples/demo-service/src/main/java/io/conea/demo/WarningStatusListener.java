package io.conea.demo;

import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;

/**
 * Prints Logback's own warnings and errors (a bad configuration) to stderr, so that stdout stays
 * JSON; the informational statuses of a clean start are not printed. Logback's console listeners
 * print every level.
 */
public final class WarningStatusListener extends ContextAwareBase implements StatusListener {

  @Override
  public void addStatusEvent(Status status) {
    if (status.getEffectiveLevel() >= Status.WARN) {
      System.err.println(status);
      if (status.getThrowable() != null) {
        status.getThrowable().printStackTrace(System.err);
      }
    }
  }

  @Override
  public boolean isResetResistant() {
    return true;
  }
}
