package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.status.Status;
import io.conea.logging.FailureReporter.Failure;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class FailureReporterTest {

  private final LoggerContext context = new LoggerContext();
  private final ConeaJsonEncoder encoder = new ConeaJsonEncoder(name -> null);
  private final FailureReporter reporter = new FailureReporter(encoder);

  FailureReporterTest() {
    encoder.setContext(context);
  }

  private List<Status> statuses() {
    return context.getStatusManager().getCopyOfStatusList();
  }

  @Test
  void reportsEachKindOnceAsAWarningFromTheEncoderWithItsCause() {
    IllegalStateException first = new IllegalStateException("first");
    reporter.once(Failure.SPAN, first);
    reporter.once(Failure.SPAN, new IllegalStateException("second"));
    reporter.once(Failure.MDC, first);

    List<Status> statuses = statuses();
    assertThat(statuses).hasSize(2);
    assertThat(statuses).allSatisfy(status -> assertThat(status.getLevel()).isEqualTo(Status.WARN));
    assertThat(statuses).allSatisfy(status -> assertThat(status.getOrigin()).isSameAs(encoder));
    assertThat(statuses.get(0).getMessage())
        .isEqualTo(
            "ConeaJsonEncoder: Reading the current OpenTelemetry span failed; trace ids come from"
                + " the MDC from now on (reported once)");
    assertThat(statuses.get(0).getThrowable()).isSameAs(first);
    assertThat(statuses.get(1).getMessage())
        .isEqualTo(
            "ConeaJsonEncoder: Reading an event's MDC failed; wrote the event without it"
                + " (reported once)");
  }

  @Test
  void reportsTheFirstDroppedNameOnly() {
    reporter.duplicateName("tenant");
    reporter.duplicateName("region");
    assertThat(statuses())
        .extracting(Status::getMessage)
        .containsExactly(
            "ConeaJsonEncoder: Dropped a key-value pair or MDC entry whose name was already"
                + " written, the first occurrence is kept: 'tenant' (reported once)");
    assertThat(statuses().get(0).getThrowable()).isNull();
  }

  @Test
  void kindsHaveBitsOfTheirOwn() {
    int all = 0;
    for (Failure failure : Failure.values()) {
      assertThat(all & failure.bit()).isZero();
      all |= failure.bit();
    }
  }

  @Test
  void threadsRacingOnOneKindReportItOnce() throws InterruptedException {
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> started = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                for (int j = 0; j < 1000; j++) {
                  reporter.once(Failure.ENCODING, new IllegalStateException());
                  reporter.once(Failure.TO_STRING, new IllegalStateException());
                }
              });
      thread.start();
      started.add(thread);
    }
    start.countDown();
    for (Thread thread : started) {
      thread.join();
    }
    assertThat(statuses()).hasSize(2);
  }
}
