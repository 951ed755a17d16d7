package io.conea.report;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Rewrites of the PromQL in an SLO file: windows, quantiles, and a histogram's slow share. */
final class Promql {

  /** A Prometheus duration: 30d, 5m, 1h30m, 500ms. */
  private static final Pattern DURATION = Pattern.compile("(?:[0-9]+(?:ms|s|m|h|d|w|y))+");

  /** A range selector's range, [5m]; not a subquery's [30m:1m]. */
  private static final Pattern RANGE =
      Pattern.compile("\\[\\s*(?:[0-9]+(?:ms|s|m|h|d|w|y))+\\s*\\]");

  /** The quantile of histogram_quantile(0.95, ...). */
  private static final Pattern QUANTILE =
      Pattern.compile("(histogram_quantile\\s*\\(\\s*)([0-9]*\\.?[0-9]+)(\\s*,)");

  /** The histogram read by histogram_quantile: name_bucket with an optional {selector}. */
  private static final Pattern BUCKET =
      Pattern.compile("\\b([a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\\s*(?:\\{([^}]*)\\})?");

  private Promql() {}

  static boolean isDuration(String text) {
    return DURATION.matcher(text).matches() && !text.replaceAll("[^1-9]", "").isEmpty();
  }

  /** {@code expr} with the range of every range selector replaced by {@code window}. */
  static String withRange(String expr, String window) {
    return RANGE.matcher(expr).replaceAll(Matcher.quoteReplacement("[" + window + "]"));
  }

  /** True when {@code expr} has at least one range selector whose range a window replaces. */
  static boolean hasRange(String expr) {
    return RANGE.matcher(expr).find();
  }

  /** {@code expr} with the quantile of its histogram_quantile calls set to {@code quantile}. */
  static String withQuantile(String expr, double quantile) {
    return QUANTILE
        .matcher(expr)
        .replaceAll(m -> Matcher.quoteReplacement(m.group(1) + number(quantile) + m.group(3)));
  }

  /**
   * The share (0 to 1) of the observations of the histogram that {@code expr} takes a quantile of
   * that are greater than {@code threshold}, over {@code window}: one minus the rate of the bucket
   * {@code le="threshold"} over the rate of the count. Null when {@code expr} is not a
   * histogram_quantile of one {@code _bucket} metric. The result is empty when {@code threshold} is
   * not one of the histogram's bucket bounds.
   */
  static @Nullable String slowShare(String expr, double threshold, String window) {
    if (!QUANTILE.matcher(expr).find()) {
      return null;
    }
    Matcher bucket = BUCKET.matcher(expr);
    if (!bucket.find()) {
      return null;
    }
    String name = bucket.group(1);
    String selector = bucket.group(2) == null ? "" : bucket.group(2).strip();
    if (bucket.find() && !bucket.group(1).equals(name)) {
      return null;
    }
    String joined = selector.isEmpty() ? "" : selector.replaceAll(",\\s*$", "") + ", ";
    return "1 - (sum(rate("
        + name
        + "_bucket{"
        + joined
        + "le=~\""
        + bucketBound(threshold)
        + "\"}["
        + window
        + "])) / sum(rate("
        + name
        + "_count"
        + (selector.isEmpty() ? "" : "{" + selector + "}")
        + "["
        + window
        + "])))";
  }

  /**
   * A regular expression (escaped for a PromQL string) matching the le label of a bucket bound as
   * client libraries write it: 0.5 or 0.50, 1 or 1.0.
   */
  static String bucketBound(double bound) {
    String plain = number(bound);
    String escaped = plain.replace(".", "\\\\.");
    return plain.contains(".") ? escaped + "0*" : escaped + "(\\\\.0+)?";
  }

  /** A number in plain notation without trailing zeros: 0.95, 0.5, 1. */
  static String number(double value) {
    return new BigDecimal(Double.toString(value)).stripTrailingZeros().toPlainString();
  }
}
