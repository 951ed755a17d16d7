package io.conea.ai;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Limits;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Model prices in US dollars per 1,000 tokens, input (prompt) and output (completion) apart, from
 * which {@link AiCalls} computes {@code ai_cost_usd_total}.
 *
 * <p>In code:
 *
 * <pre>{@code
 * AiPricing pricing = AiPricing.builder()
 *     .addDefaults()
 *     .price("my-fine-tune", 0.012, 0.016)
 *     .build();
 * }</pre>
 *
 * <p>Or from a properties file, two keys per model, {@code <model>.input} and {@code
 * <model>.output}, in USD per 1,000 tokens ({@code AiPricing.builder().load(path).build()}):
 *
 * <pre>
 * # USD per 1,000 tokens
 * gpt-4.input=0.03
 * gpt-4.output=0.06
 * gemini-1.5-pro.input=0.00125
 * gemini-1.5-pro.output=0.005
 * </pre>
 *
 * A model name may contain dots: the key is split at its last dot. Loading fails at once, naming
 * the key, on anything else: an unknown suffix, a value that is not a plain decimal number, a
 * negative price, or a model with only one of its two prices. A model given again replaces the
 * earlier price, so a file loaded after {@link Builder#addDefaults()} overrides the defaults.
 *
 * <p>{@link #defaults()} holds the providers' public list prices <b>as of June 2025</b>, standard
 * tier, without batch or prompt-cache discounts. Prices change: check them against your contract
 * and override what differs.
 *
 * <table>
 *   <caption>Default prices, USD per 1,000 tokens (June 2025)</caption>
 *   <tr><th>model</th><th>input</th><th>output</th></tr>
 *   <tr><td>gpt-4</td><td>0.03</td><td>0.06</td></tr>
 *   <tr><td>gpt-4-turbo</td><td>0.01</td><td>0.03</td></tr>
 *   <tr><td>gpt-4o</td><td>0.0025</td><td>0.01</td></tr>
 *   <tr><td>gpt-4o-mini</td><td>0.00015</td><td>0.0006</td></tr>
 *   <tr><td>gpt-4.1</td><td>0.002</td><td>0.008</td></tr>
 *   <tr><td>gpt-4.1-mini</td><td>0.0004</td><td>0.0016</td></tr>
 *   <tr><td>gpt-3.5-turbo</td><td>0.0005</td><td>0.0015</td></tr>
 *   <tr><td>claude-3-opus</td><td>0.015</td><td>0.075</td></tr>
 *   <tr><td>claude-3-5-sonnet</td><td>0.003</td><td>0.015</td></tr>
 *   <tr><td>claude-3-5-haiku</td><td>0.0008</td><td>0.004</td></tr>
 *   <tr><td>claude-3-haiku</td><td>0.00025</td><td>0.00125</td></tr>
 *   <tr><td>gemini-1.5-pro</td><td>0.00125</td><td>0.005</td></tr>
 *   <tr><td>gemini-1.5-flash</td><td>0.000075</td><td>0.0003</td></tr>
 * </table>
 *
 * <p>Model names are matched exactly, case included. Instances are immutable.
 */
public final class AiPricing {

  /** Longest model name accepted, as for label values. */
  static final int MAX_MODEL_LENGTH = Limits.MAX_LABEL_VALUE_LENGTH;

  private static final AiPricing DEFAULTS =
      new Builder()
          .price("gpt-4", 0.03, 0.06)
          .price("gpt-4-turbo", 0.01, 0.03)
          .price("gpt-4o", 0.0025, 0.01)
          .price("gpt-4o-mini", 0.00015, 0.0006)
          .price("gpt-4.1", 0.002, 0.008)
          .price("gpt-4.1-mini", 0.0004, 0.0016)
          .price("gpt-3.5-turbo", 0.0005, 0.0015)
          .price("claude-3-opus", 0.015, 0.075)
          .price("claude-3-5-sonnet", 0.003, 0.015)
          .price("claude-3-5-haiku", 0.0008, 0.004)
          .price("claude-3-haiku", 0.00025, 0.00125)
          .price("gemini-1.5-pro", 0.00125, 0.005)
          .price("gemini-1.5-flash", 0.000075, 0.0003)
          .build();

  private final Map<String, Price> prices;

  AiPricing(Map<String, Price> prices) {
    this.prices = Collections.unmodifiableMap(new LinkedHashMap<>(prices));
  }

  /** Returns the default prices: the list prices of June 2025 in the table above. */
  public static AiPricing defaults() {
    return DEFAULTS;
  }

  /** Returns an empty builder; {@link Builder#addDefaults()} starts from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the price of {@code model}, or null if this table has none. */
  public @Nullable Price price(@Nullable String model) {
    return model == null ? null : prices.get(model);
  }

  /**
   * Returns what {@code inputTokens} and {@code outputTokens} of {@code model} cost in US dollars,
   * or empty if this table has no price for the model.
   */
  public OptionalDouble costUsd(@Nullable String model, long inputTokens, long outputTokens) {
    Price price = price(model);
    return price == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(price.costUsd(inputTokens, outputTokens));
  }

  /** Returns the models that have a price, in the order they were added. */
  public Set<String> models() {
    return prices.keySet();
  }

  @Override
  public String toString() {
    return "AiPricing" + new TreeMap<>(prices);
  }

  /**
   * The price of one model in US dollars per 1,000 tokens.
   *
   * @param inputUsdPer1k the price of 1,000 input (prompt) tokens
   * @param outputUsdPer1k the price of 1,000 output (completion) tokens
   */
  public record Price(double inputUsdPer1k, double outputUsdPer1k) {

    /** Checks that both prices are finite and not negative. */
    public Price {
      checkPrice(inputUsdPer1k, "inputUsdPer1k");
      checkPrice(outputUsdPer1k, "outputUsdPer1k");
    }

    /**
     * Returns the cost in US dollars of {@code inputTokens} and {@code outputTokens}; 1,250 input
     * tokens at 0.03 cost 0.0375.
     */
    public double costUsd(long inputTokens, long outputTokens) {
      return (Math.max(0, inputTokens) * inputUsdPer1k + Math.max(0, outputTokens) * outputUsdPer1k)
          / 1000;
    }

    private static void checkPrice(double usd, String name) {
      if (!(usd >= 0) || usd == Double.POSITIVE_INFINITY) {
        throw new IllegalArgumentException(
            name + " must be a finite number of US dollars, 0 or more, but was " + usd);
      }
    }
  }

  /**
   * Builds an {@link AiPricing}. Every method checks its input at once and throws {@link
   * IllegalArgumentException} (or {@link NullPointerException} for null) with the reason.
   */
  public static final class Builder {

    private final Map<String, Price> prices = new LinkedHashMap<>();

    Builder() {}

    /** Adds the {@linkplain AiPricing#defaults() default prices}, replacing any given before. */
    public Builder addDefaults() {
      prices.putAll(DEFAULTS.prices);
      return this;
    }

    /** Adds every price of {@code pricing}, replacing any given before for the same models. */
    public Builder addAll(AiPricing pricing) {
      requireNonNull(pricing, "pricing");
      prices.putAll(pricing.prices);
      return this;
    }

    /**
     * Sets the price of {@code model} in US dollars per 1,000 tokens, replacing any given before.
     */
    public Builder price(String model, double inputUsdPer1k, double outputUsdPer1k) {
      prices.put(checkModel(model, "model"), new Price(inputUsdPer1k, outputUsdPer1k));
      return this;
    }

    /**
     * Adds the prices in the properties file {@code file} (UTF-8), in the format described on
     * {@link AiPricing}.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if an entry is invalid; the message names the file and key
     */
    public Builder load(Path file) throws IOException {
      requireNonNull(file, "file");
      try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        return load(reader, file.toString());
      }
    }

    /**
     * Adds the prices read from {@code reader} in the properties format described on {@link
     * AiPricing}; the reader is not closed.
     *
     * @throws IOException if reading fails
     * @throws IllegalArgumentException if an entry is invalid; the message names the key
     */
    public Builder load(Reader reader) throws IOException {
      return load(requireNonNull(reader, "reader"), "AI prices");
    }

    /** Returns the prices. */
    public AiPricing build() {
      return new AiPricing(prices);
    }

    private Builder load(Reader reader, String source) throws IOException {
      Properties properties = new Properties();
      try {
        properties.load(reader);
      } catch (IllegalArgumentException e) {
        // Properties reports a malformed \\uXXXX escape this way.
        throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
      }
      Map<String, BigDecimal[]> parsed = new TreeMap<>();
      for (String key : properties.stringPropertyNames()) {
        int dot = key.lastIndexOf('.');
        String suffix = dot < 0 ? "" : key.substring(dot + 1);
        int side = suffix.equals("input") ? 0 : suffix.equals("output") ? 1 : -1;
        if (side < 0 || dot == 0) {
          throw new IllegalArgumentException(
              source
                  + ": unknown key \""
                  + key
                  + "\"; each key is <model>.input or <model>.output, in USD per 1,000 tokens");
        }
        String model = checkModel(key.substring(0, dot), source + ": the model of \"" + key + "\"");
        parsed.computeIfAbsent(model, m -> new BigDecimal[2])[side] =
            decimal(source, key, properties.getProperty(key));
      }
      List<String> incomplete = new ArrayList<>();
      for (Map.Entry<String, BigDecimal[]> entry : parsed.entrySet()) {
        BigDecimal[] pair = entry.getValue();
        if (pair[0] == null || pair[1] == null) {
          incomplete.add(entry.getKey() + (pair[0] == null ? ".input" : ".output"));
        }
      }
      if (!incomplete.isEmpty()) {
        throw new IllegalArgumentException(
            source + ": missing " + String.join(", ", incomplete) + "; each model needs both");
      }
      for (Map.Entry<String, BigDecimal[]> entry : parsed.entrySet()) {
        BigDecimal[] pair = entry.getValue();
        prices.put(entry.getKey(), new Price(pair[0].doubleValue(), pair[1].doubleValue()));
      }
      return this;
    }

    private static BigDecimal decimal(String source, String key, String value) {
      BigDecimal price;
      try {
        // BigDecimal, unlike Double.parseDouble, refuses NaN, Infinity, hex and a "d" suffix.
        price = new BigDecimal(value.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            source
                + ": "
                + key
                + " must be a decimal number of USD per 1,000 tokens, but was \""
                + value
                + "\"",
            e);
      }
      if (price.signum() < 0) {
        throw new IllegalArgumentException(
            source + ": " + key + " must not be negative, but was " + value.trim());
      }
      if (Double.isInfinite(price.doubleValue())) {
        throw new IllegalArgumentException(source + ": " + key + " is too large: " + value.trim());
      }
      return price;
    }

    private static String checkModel(String model, String what) {
      requireNonNull(model, "model");
      if (model.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank");
      }
      if (model.length() > MAX_MODEL_LENGTH) {
        throw new IllegalArgumentException(
            what + " must be at most " + MAX_MODEL_LENGTH + " characters");
      }
      return model;
    }
  }
}
