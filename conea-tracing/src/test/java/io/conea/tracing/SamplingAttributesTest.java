package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplingAttributesTest {

  private static boolean mayBeRead(Sampler sampler) {
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().setSampler(sampler).build())
            .build()) {
      return SamplingAttributes.mayBeRead(sdk);
    }
  }

  @Test
  void builtInSamplersAndParentBasedOnesMadeOfThemReadNoAttributes() {
    assertThat(mayBeRead(Sampler.alwaysOn())).isFalse();
    assertThat(mayBeRead(Sampler.alwaysOff())).isFalse();
    assertThat(mayBeRead(Sampler.traceIdRatioBased(0.1))).isFalse();
    assertThat(mayBeRead(Sampler.parentBased(Sampler.traceIdRatioBased(0.1)))).isFalse();
    assertThat(
            mayBeRead(
                Sampler.parentBasedBuilder(Sampler.traceIdRatioBased(0.25))
                    .setRemoteParentNotSampled(Sampler.alwaysOn())
                    .setLocalParentSampled(Sampler.traceIdRatioBased(0.5))
                    .build()))
        .isFalse();
  }

  @Test
  void customSamplersAndRatiosTheDescriptionCannotRebuildMayReadThem() {
    Sampler custom = new Impostor("AlwaysOnSampler");
    assertThat(mayBeRead(custom)).isTrue();
    assertThat(mayBeRead(Sampler.parentBased(custom))).isTrue();
    assertThat(mayBeRead(new Impostor("TraceIdRatioBased{0.100000}"))).isTrue();
    // Six decimals describe this ratio, which then rebuilds to another sampler: stay safe.
    assertThat(mayBeRead(Sampler.traceIdRatioBased(0.1234567))).isTrue();
  }

  @Test
  void anOpenTelemetryOtherThanTheSdkMayReadThem() {
    assertThat(SamplingAttributes.mayBeRead(OpenTelemetry.noop())).isTrue();
  }

  /** A sampler describing itself as a built-in one. */
  private static final class Impostor implements Sampler {
    private final String description;

    Impostor(String description) {
      this.description = description;
    }

    @Override
    public SamplingResult shouldSample(
        Context parentContext,
        String traceId,
        String name,
        SpanKind spanKind,
        Attributes attributes,
        List<LinkData> parentLinks) {
      return SamplingResult.recordAndSample();
    }

    @Override
    public String getDescription() {
      return description;
    }
  }
}
