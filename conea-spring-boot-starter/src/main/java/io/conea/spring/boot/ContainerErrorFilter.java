package io.conea.spring.boot;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.conea.metrics.internal.LoggedErrors;
import io.conea.tracing.HttpServerTracing;
import org.jspecify.annotations.Nullable;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;

/**
 * Drops the second report of an exception that conea already logged as a request's error line: the
 * servlet container (Tomcat, Jetty) or WebFlux's error handler logs an exception that escaped the
 * request once more, after the request's scope closed, so without trace id, status or duration.
 * Only a warning or error that carries that very exception (or one wrapping it), on the thread that
 * logged the request's line, is dropped; every other event passes untouched.
 *
 * <p>Added to Logback's context while the application context runs, removed when it closes.
 */
final class ContainerErrorFilter extends TurboFilter implements InitializingBean, DisposableBean {

  private @Nullable LoggerContext context;

  ContainerErrorFilter() {
    setName("conea-container-error-filter");
  }

  @Override
  public FilterReply decide(
      @Nullable Marker marker,
      Logger logger,
      Level level,
      @Nullable String format,
      Object @Nullable [] params,
      @Nullable Throwable t) {
    if (level == null || !level.isGreaterOrEqual(Level.WARN)) {
      return FilterReply.NEUTRAL;
    }
    Throwable reported = t;
    if (reported == null && params != null && params.length > 0) {
      Object last = params[params.length - 1];
      reported = last instanceof Throwable ? (Throwable) last : null;
    }
    return reported != null
            && !HttpServerTracing.ACCESS_LOGGER_NAME.equals(logger.getName())
            && LoggedErrors.alreadyLogged(reported)
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }

  @Override
  public void afterPropertiesSet() {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext) {
      LoggerContext loggerContext = (LoggerContext) factory;
      setContext(loggerContext);
      start();
      loggerContext.addTurboFilter(this);
      context = loggerContext;
    }
  }

  @Override
  public void destroy() {
    LoggerContext loggerContext = context;
    if (loggerContext != null) {
      loggerContext.getTurboFilterList().remove(this);
      stop();
      context = null;
    }
  }
}
