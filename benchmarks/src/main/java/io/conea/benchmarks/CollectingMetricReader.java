package io.conea.benchmarks;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import java.util.Collection;

/**
 * A metric reader that collects cumulative metrics only when asked, as a Prometheus scrape would.
 *
 * <p>The SDK's testing module has one, but it also installs a context storage wrapper for the whole
 * JVM, which would slow down every benchmark that makes a context current.
 */
final class CollectingMetricReader implements MetricReader {

  private volatile CollectionRegistration registration = CollectionRegistration.noop();

  @Override
  public void register(CollectionRegistration registration) {
    this.registration = registration;
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return AggregationTemporality.CUMULATIVE;
  }

  /** Returns every metric recorded so far. */
  Collection<MetricData> collect() {
    return registration.collectAllMetrics();
  }

  @Override
  public CompletableResultCode forceFlush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }
}
