package io.conea.ai;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects the warnings of some loggers, to check that each problem is told exactly once; while it
 * does, they do not reach the console.
 */
final class Warnings implements AutoCloseable {

  private final List<Logger> loggers = new ArrayList<>();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  Warnings(Class<?>... loggerNames) {
    appender.start();
    for (Class<?> name : loggerNames) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.addAppender(appender);
      logger.setAdditive(false);
      loggers.add(logger);
    }
  }

  List<String> messages() {
    List<String> messages = new ArrayList<>();
    synchronized (appender) {
      for (ILoggingEvent event : appender.list) {
        if (event.getLevel() == Level.WARN) {
          messages.add(event.getFormattedMessage());
        }
      }
    }
    return messages;
  }

  @Override
  public void close() {
    for (Logger logger : loggers) {
      logger.detachAppender(appender);
      logger.setAdditive(true);
    }
  }
}
