package io.conea.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which problems were already reported, so that each kind is logged once per metrics
 * instance instead of once per request.
 */
final class Problems {

  private final Set<String> reported = ConcurrentHashMap.newKeySet();

  Problems() {}

  /**
   * Returns true the first time it sees {@code key}. The check comes before the insert so that
   * repeated problems on the recording path do not allocate.
   */
  boolean firstTime(String key) {
    return !reported.contains(key) && reported.add(key);
  }
}
