package io.conea.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells whether the sampler of an OpenTelemetry instance may read span attributes, so that
 * attributes can go to the span builder only when a sampler may use them: on the SDK, the builder
 * allocates an attribute map for every span, even one that is then dropped.
 */
final class SamplingAttributes {

  private static final String BUILT_IN =
      "(AlwaysOnSampler|AlwaysOffSampler|TraceIdRatioBased\\{[0-9.]+\\})";

  private static final Pattern RATIO = Pattern.compile("TraceIdRatioBased\\{([0-9.]+)\\}");

  private static final Pattern PARENT_BASED =
      Pattern.compile(
          "ParentBased\\{root:"
              + BUILT_IN
              + ",remoteParentSampled:"
              + BUILT_IN
              + ",remoteParentNotSampled:"
              + BUILT_IN
              + ",localParentSampled:"
              + BUILT_IN
              + ",localParentNotSampled:"
              + BUILT_IN
              + "\\}");

  private SamplingAttributes() {}

  /**
   * Returns false only when the sampler is known to decide without attributes: the SDK's always-on,
   * always-off and trace-id-ratio samplers, and parent-based ones made of them (the guide's {@code
   * parentbased_traceidratio}). Any other sampler, or an OpenTelemetry other than the SDK, may read
   * them.
   */
  static boolean mayBeRead(OpenTelemetry openTelemetry) {
    if (!(openTelemetry instanceof OpenTelemetrySdk)) {
      return true;
    }
    try {
      Sampler sampler = ((OpenTelemetrySdk) openTelemetry).getSdkTracerProvider().getSampler();
      Sampler rebuilt = builtIn(sampler.getDescription());
      // The SDK's equals, not the configured sampler's, which may be anything.
      return rebuilt == null || !rebuilt.equals(sampler);
    } catch (RuntimeException | LinkageError e) {
      // A sampler that cannot even describe itself is no built-in one.
      return true;
    }
  }

  /**
   * Rebuilds the built-in sampler a description names, or returns null. Comparing the rebuilt
   * sampler with the configured one by {@code equals} (which the SDK's samplers define by their
   * delegates and ratio) keeps a custom sampler that merely describes itself alike from passing.
   */
  static Sampler builtIn(String description) {
    if (description == null) {
      return null;
    }
    if (description.equals("AlwaysOnSampler")) {
      return Sampler.alwaysOn();
    }
    if (description.equals("AlwaysOffSampler")) {
      return Sampler.alwaysOff();
    }
    Matcher ratio = RATIO.matcher(description);
    if (ratio.matches()) {
      return ratioSampler(ratio.group(1));
    }
    Matcher parentBased = PARENT_BASED.matcher(description);
    if (parentBased.matches()) {
      Sampler root = builtIn(parentBased.group(1));
      if (root == null) {
        return null;
      }
      return Sampler.parentBasedBuilder(root)
          .setRemoteParentSampled(builtIn(parentBased.group(2)))
          .setRemoteParentNotSampled(builtIn(parentBased.group(3)))
          .setLocalParentSampled(builtIn(parentBased.group(4)))
          .setLocalParentNotSampled(builtIn(parentBased.group(5)))
          .build();
    }
    return null;
  }

  private static Sampler ratioSampler(String ratio) {
    try {
      double value = Double.parseDouble(ratio);
      return value >= 0 && value <= 1 ? Sampler.traceIdRatioBased(value) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
