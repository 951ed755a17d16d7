package io.conea.metrics.internal;

/**
 * The sizes conea bounds, in one place.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class Limits {

  /**
   * The longest label value, and so the longest route template: a longer one is refused where it is
   * declared, and a longer value seen at run time collapses into {@code _OTHER}.
   */
  public static final int MAX_LABEL_VALUE_LENGTH = 256;

  private Limits() {}
}
