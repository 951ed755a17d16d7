package io.conea.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import io.conea.metrics.internal.LoggedErrors;
import io.conea.tracing.HttpServerTracing;
import org.junit.jupiter.api.Test;

/** Which events the filter drops: only a second report of the exception conea logged. */
class ContainerErrorFilterTest {

  private final LoggerContext context = new LoggerContext();
  private final Logger tomcat =
      context.getLogger("org.apache.catalina.core.ContainerBase.[Tomcat].[localhost]");
  private final ContainerErrorFilter filter = new ContainerErrorFilter();

  @Test
  void dropsTheContainersReportOfTheLoggedExceptionOrOfAWrapperOfIt() {
    IllegalStateException logged = new IllegalStateException("boom");
    LoggedErrors.note(logged);

    // Tomcat: the exception as the throwable argument.
    assertThat(decide(tomcat, Level.ERROR, null, logged)).isEqualTo(FilterReply.DENY);
    // Jetty: a wrapper of it as the last parameter of a message with placeholders.
    RuntimeException wrapper = new RuntimeException("Request processing failed", logged);
    assertThat(decide(tomcat, Level.WARN, new Object[] {"/api/v1/boom", wrapper}, null))
        .isEqualTo(FilterReply.DENY);
  }

  @Test
  void letsEverythingElsePass() {
    IllegalStateException logged = new IllegalStateException("boom");
    LoggedErrors.note(logged);

    // conea's own line, a lower level, another exception, no exception.
    Logger access = context.getLogger(HttpServerTracing.ACCESS_LOGGER_NAME);
    assertThat(decide(access, Level.ERROR, null, logged)).isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(tomcat, Level.INFO, null, logged)).isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(tomcat, Level.ERROR, null, new IllegalStateException("other")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(tomcat, Level.ERROR, new Object[] {"x"}, null))
        .isEqualTo(FilterReply.NEUTRAL);
  }

  @Test
  void anExceptionLoggedOnAnotherThreadIsNotDropped() throws Exception {
    IllegalStateException logged = new IllegalStateException("boom");
    Thread other = new Thread(() -> LoggedErrors.note(logged));
    other.start();
    other.join();

    assertThat(decide(tomcat, Level.ERROR, null, logged)).isEqualTo(FilterReply.NEUTRAL);
  }

  private FilterReply decide(Logger logger, Level level, Object[] params, Throwable t) {
    return filter.decide(null, logger, level, "message", params, t);
  }
}
