package io.conea.metrics;

import io.conea.metrics.internal.Limits;
import io.conea.metrics.internal.Problems;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded map from one label's values to the meters registered for them.
 *
 * <p>Known values are found with one {@link ConcurrentHashMap#get} and no allocation. A new value
 * is admitted while fewer than {@code maxValues} have been; after that, and for values that are
 * null, blank or longer than {@link #MAX_VALUE_LENGTH}, the shared entry for {@value
 * ConeaMetrics#OTHER} is returned and one warning is logged, so the series count stays bounded and
 * no recording is lost. When the label is the only user-data label of its meter family, a {@link
 * LabelOverflow} makes the cap the family's cap on label combinations: it counts what passes the
 * cap and gives the one warning.
 */
final class LabelCache<V> {

  /** Longest label value kept as is; longer ones are garbage or data, not a route or a name. */
  static final int MAX_VALUE_LENGTH = Limits.MAX_LABEL_VALUE_LENGTH;

  private static final Logger logger = LoggerFactory.getLogger(ConeaMetrics.class);

  private final ConcurrentHashMap<String, V> values = new ConcurrentHashMap<>();
  private final AtomicInteger admitted = new AtomicInteger();
  private final String label;
  private final int maxValues;
  private final Function<String, V> factory;
  private final Problems problems;
  private final @Nullable LabelOverflow overflow;
  // Built once: the overflow path runs on every request past the cap and must not allocate.
  private final String invalidKey;
  private final String overflowKey;

  LabelCache(String label, int maxValues, Function<String, V> factory, Problems problems) {
    this(label, maxValues, factory, problems, null);
  }

  LabelCache(
      String label,
      int maxValues,
      Function<String, V> factory,
      Problems problems,
      @Nullable LabelOverflow overflow) {
    this.label = label;
    this.overflow = overflow;
    this.maxValues = maxValues;
    this.factory = factory;
    this.problems = problems;
    this.invalidKey = label + ".invalid";
    this.overflowKey = label + ".overflow";
  }

  /** Adds a value that never counts against the cap (fixed values, declared routes). */
  void reserve(String value, V entry) {
    values.putIfAbsent(value, entry);
  }

  V get(@Nullable String value) {
    if (value != null) {
      V known = values.get(value);
      if (known != null) {
        return known;
      }
    }
    return admit(value);
  }

  /** The number of admitted values, not counting reserved ones. */
  int size() {
    return admitted.get();
  }

  private V admit(@Nullable String value) {
    if (ConeaMetrics.OTHER.equals(value)) {
      return other();
    }
    if (value == null || value.isBlank() || value.length() > MAX_VALUE_LENGTH) {
      if (problems.firstTime(invalidKey)) {
        logger.warn(
            "A null, blank or over-long (> {} chars) {} value was recorded as {}; further such"
                + " values are recorded the same way without another warning",
            MAX_VALUE_LENGTH,
            label,
            ConeaMetrics.OTHER);
      }
      return other();
    }
    if (admitted.get() >= maxValues) {
      return overflow(value);
    }
    synchronized (this) {
      V known = values.get(value);
      if (known != null) {
        return known;
      }
      if (admitted.get() >= maxValues) {
        return overflow(value);
      }
      V created = factory.apply(value);
      values.put(value, created);
      admitted.incrementAndGet();
      return created;
    }
  }

  private V overflow(String value) {
    if (overflow != null) {
      overflow.collapsed(value, null, null);
    } else if (problems.firstTime(overflowKey)) {
      logger.warn(
          "More than {} distinct {} values: \"{}\" and every later new value are recorded as {}."
              + " Raise the cap or fix the source of the values.",
          maxValues,
          label,
          value,
          ConeaMetrics.OTHER);
    }
    return other();
  }

  /** The shared entry for everything that is not admitted, registered only once it is needed. */
  private V other() {
    V other = values.get(ConeaMetrics.OTHER);
    if (other != null) {
      return other;
    }
    synchronized (this) {
      return values.computeIfAbsent(ConeaMetrics.OTHER, factory);
    }
  }
}
