package io.conea.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when one meter family whose labels come from user data has reached its cap on label
 * combinations: each recording that is collapsed into the family's overflow series is counted in
 * {@code conea_label_overflow_total{meter}}, and the first one is logged as one warning.
 *
 * <p>The counter is registered on the first collapse, so a service that never reaches a cap has no
 * such series; {@code conea_label_overflow_total > 0} is the signal to act on. Counting a collapse
 * allocates nothing.
 */
final class LabelOverflow {

  static final String NAME = "conea.label.overflow";
  static final String METER = "meter";

  private static final Logger logger = LoggerFactory.getLogger(ConeaMetrics.class);

  private final Registrations registrations;
  private final String family;
  private final String[] labels;
  private final int cap;
  private final String setting;
  private volatile @Nullable Counter counter;

  /**
   * @param family the family as scraped, such as {@code ai_model_requests_total}
   * @param labels the family's labels that come from user data, in the order the values are passed
   *     to {@link #collapsed}
   * @param cap how many combinations the family keeps, its overflow series included
   * @param setting the builder setting that raises the cap, for the warning
   */
  LabelOverflow(
      Registrations registrations, String family, String[] labels, int cap, String setting) {
    this.registrations = registrations;
    this.family = family;
    this.labels = labels.clone();
    this.cap = cap;
    this.setting = setting;
  }

  /**
   * Counts one recording whose label values (given in the order of the labels, null past the last)
   * were collapsed; the values only serve as the example in the one warning.
   */
  void collapsed(@Nullable String first, @Nullable String second, @Nullable String third) {
    Counter known = counter;
    (known != null ? known : first(first, second, third)).increment();
  }

  private synchronized Counter first(
      @Nullable String first, @Nullable String second, @Nullable String third) {
    Counter known = counter;
    if (known != null) {
      return known;
    }
    Counter created =
        registrations.counter(
            NAME,
            "Recordings whose user-data labels were collapsed into their meter family's overflow"
                + " series, the family having reached its cap on label combinations",
            null,
            Tags.of(METER, family));
    counter = created;
    try {
      logger.warn(
          "{} reached its cap of {} label combinations of {}, its overflow series included: {} and"
              + " every later new combination are recorded as {} and counted in"
              + " conea_label_overflow_total{meter=\"{}\"}; sums stay exact. Raise {} or fix the"
              + " source of the values.",
          family,
          cap,
          String.join(", ", labels),
          describe(new @Nullable String[] {first, second, third}),
          describe(null),
          family,
          setting);
    } catch (RuntimeException | LinkageError loggingFailure) {
      // The counter still tells.
    }
    return created;
  }

  /** {@code model="m", provider="p"} for the given values, or with every value {@code _OTHER}. */
  private String describe(@Nullable String @Nullable [] values) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < labels.length; i++) {
      if (i > 0) {
        text.append(", ");
      }
      text.append(labels[i]).append("=\"");
      text.append(values == null || i >= values.length ? ConeaMetrics.OTHER : values[i]);
      text.append('"');
    }
    return text.toString();
  }
}
