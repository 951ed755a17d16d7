package io.conea.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AiPricingTest {

  @Test
  void theGuidesExampleCosts0_0375ForGpt4() {
    // The guide's log example: gpt-4, 1,250 tokens at 0.03 USD per 1K tokens.
    assertThat(AiPricing.defaults().costUsd("gpt-4", 1250, 0)).hasValue(0.0375);
    assertThat(AiPricing.defaults().price("gpt-4").costUsd(1250, 0)).isEqualTo(0.0375);
  }

  @Test
  void defaultsPriceInputAndOutputApartPerThousandTokens() {
    AiPricing defaults = AiPricing.defaults();
    assertThat(defaults.models())
        .contains(
            "gpt-4",
            "gpt-4o",
            "gpt-4o-mini",
            "claude-3-5-sonnet",
            "claude-3-haiku",
            "gemini-1.5-pro");
    assertThat(defaults.price("gpt-4")).isEqualTo(new AiPricing.Price(0.03, 0.06));
    assertThat(defaults.costUsd("gpt-4", 1000, 1000)).hasValue(0.09);
    assertThat(defaults.costUsd("claude-3-5-sonnet", 2000, 1000)).hasValue(0.021);
  }

  @Test
  void aModelWithoutPriceHasNoCost() {
    assertThat(AiPricing.defaults().costUsd("my-model", 100, 100)).isEmpty();
    assertThat(AiPricing.defaults().costUsd(null, 100, 100)).isEmpty();
    assertThat(AiPricing.defaults().price("GPT-4")).as("names match exactly").isNull();
    assertThat(AiPricing.builder().build().models()).isEmpty();
  }

  @Test
  void builderAddsAndReplacesPrices() {
    AiPricing pricing =
        AiPricing.builder()
            .addDefaults()
            .price("gpt-4", 0.02, 0.04)
            .price("my-fine-tune", 0.012, 0.016)
            .build();
    assertThat(pricing.price("gpt-4")).isEqualTo(new AiPricing.Price(0.02, 0.04));
    assertThat(pricing.price("my-fine-tune")).isEqualTo(new AiPricing.Price(0.012, 0.016));
    assertThat(pricing.price("gpt-4o")).isEqualTo(AiPricing.defaults().price("gpt-4o"));
    assertThat(AiPricing.builder().addAll(pricing).build().models())
        .containsExactlyElementsOf(pricing.models());
  }

  @Test
  void builderRejectsBadPricesAtOnce() {
    AiPricing.Builder builder = AiPricing.builder();
    assertThatThrownBy(() -> builder.price("m", -0.01, 0.01))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inputUsdPer1k")
        .hasMessageContaining("-0.01");
    assertThatThrownBy(() -> builder.price("m", 0.01, Double.NaN))
        .hasMessageContaining("outputUsdPer1k");
    assertThatThrownBy(() -> builder.price("m", 0.01, Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.price(" ", 0.01, 0.01)).hasMessageContaining("blank");
    assertThatThrownBy(() -> builder.price("x".repeat(257), 0.01, 0.01))
        .hasMessageContaining("256");
    assertThatThrownBy(() -> builder.price(null, 0.01, 0.01))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void loadsAPropertiesFileWithDottedModelNames(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("prices.properties");
    Files.writeString(
        file,
        String.join(
            "\n",
            "# USD per 1,000 tokens",
            "gpt-4.input=0.03",
            "gpt-4.output = 0.06",
            "gemini-1.5-pro.input=0.00125",
            "gemini-1.5-pro.output=5E-3",
            "! another comment style",
            "free-model.input=0",
            "free-model.output=0",
            ""),
        StandardCharsets.UTF_8);

    AiPricing pricing = AiPricing.builder().load(file).build();

    assertThat(pricing.models()).containsExactlyInAnyOrder("gpt-4", "gemini-1.5-pro", "free-model");
    assertThat(pricing.price("gemini-1.5-pro")).isEqualTo(new AiPricing.Price(0.00125, 0.005));
    assertThat(pricing.costUsd("gpt-4", 1250, 0)).hasValue(0.0375);
    assertThat(pricing.costUsd("free-model", 1000, 1000)).hasValue(0);
  }

  @Test
  void aLoadedFileOverridesTheDefaults() throws IOException {
    AiPricing pricing =
        AiPricing.builder()
            .addDefaults()
            .load(new StringReader("gpt-4o.input=0.005\ngpt-4o.output=0.015\n"))
            .build();
    assertThat(pricing.price("gpt-4o")).isEqualTo(new AiPricing.Price(0.005, 0.015));
    assertThat(pricing.price("gpt-4")).isEqualTo(AiPricing.defaults().price("gpt-4"));
  }

  @Test
  void loadingFailsWithTheKeyAndReasonForEveryKindOfMistake() {
    assertLoadFails("gpt-4.input=-0.03\ngpt-4.output=0.06", "gpt-4.input must not be negative");
    assertLoadFails("gpt-4.input=abc\ngpt-4.output=0.06", "gpt-4.input must be a decimal number");
    assertLoadFails("gpt-4.input=NaN\ngpt-4.output=0.06", "gpt-4.input must be a decimal number");
    assertLoadFails("gpt-4.input=\ngpt-4.output=0.06", "gpt-4.input must be a decimal number");
    assertLoadFails("gpt-4.input=1.5d\ngpt-4.output=0.06", "gpt-4.input must be a decimal number");
    assertLoadFails("gpt-4.inputs=0.03", "unknown key \"gpt-4.inputs\"");
    assertLoadFails("gpt-4=0.03", "unknown key \"gpt-4\"");
    assertLoadFails(".input=0.03", "unknown key \".input\"");
    assertLoadFails("gpt-4.input=0.03", "missing gpt-4.output");
    assertLoadFails("gpt-4.input=1e400\ngpt-4.output=0.06", "gpt-4.input is too large");
  }

  @Test
  void aFailedLoadNamesTheFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("broken.properties");
    Files.writeString(file, "gpt-4.input=x\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> AiPricing.builder().load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(file.toString() + ": gpt-4.input");
    assertThatThrownBy(() -> AiPricing.builder().load(dir.resolve("missing.properties")))
        .isInstanceOf(IOException.class);
  }

  @Test
  void negativeTokenCountsCostNothing() {
    assertThat(new AiPricing.Price(0.03, 0.06).costUsd(-1000, 1000)).isEqualTo(0.06);
  }

  private static void assertLoadFails(String text, String message) {
    assertThatThrownBy(() -> AiPricing.builder().load(new StringReader(text)))
        .as(text)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
