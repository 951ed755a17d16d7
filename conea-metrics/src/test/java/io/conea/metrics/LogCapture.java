package io.conea.metrics;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what one logger logs, so that tests can see that a warning was given exactly once. */
final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  LogCapture(Class<?> loggerName) {
    this(loggerName.getName());
  }

  /** Collects what {@code loggerName} and its descendants log ({@code ROOT}: every logger). */
  LogCapture(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    appender.start();
    logger.addAppender(appender);
  }

  List<String> warnings() {
    List<String> warnings = new ArrayList<>();
    synchronized (appender) {
      for (ILoggingEvent event : appender.list) {
        if (event.getLevel() == Level.WARN) {
          warnings.add(event.getFormattedMessage());
        }
      }
    }
    return warnings;
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
