package io.conea.tracing.sdk;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Routes the OpenTelemetry SDK's own java.util.logging diagnostics (a failed export, a full queue)
 * to SLF4J while conea's SDK is in use, so that they reach the service's log as one event each,
 * name the exporter and endpoint, and are throttled.
 *
 * <p>Only the {@code io.opentelemetry} JUL logger is touched, never the root logger: a handler is
 * added to it and its records stop travelling to the parent handlers (which would print them to
 * stderr a second time). The last {@link Registration} to close restores the logger as it was.
 */
final class SdkDiagnostics {

  static final String JUL_LOGGER = "io.opentelemetry";

  /** Lines per logger per minute; the rest are counted and reported in the next line. */
  static final int LINES_PER_MINUTE = 10;

  /** The most loggers throttled separately; the others share one budget. */
  static final int MAX_LOGGERS = 32;

  /** The most export targets named in one line. */
  private static final int MAX_NAMED_TARGETS = 4;

  private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final String OTHER_LOGGERS = "";

  // Held strongly: JUL keeps loggers only weakly, and a collected logger would lose the handler.
  private static final Logger julLogger = Logger.getLogger(JUL_LOGGER);
  private static final List<Registration> active = new CopyOnWriteArrayList<>();
  private static @Nullable ForwardingHandler installed;
  private static boolean savedUseParentHandlers;

  private SdkDiagnostics() {}

  /**
   * Starts routing for one conea SDK, unless SLF4J has no real backend or is itself backed by
   * java.util.logging; the targets added to the returned registration are named in every line.
   */
  static Registration register() {
    Registration registration = new Registration();
    if (!slf4jHasOtherBackend()) {
      return registration;
    }
    synchronized (SdkDiagnostics.class) {
      if (installed == null) {
        ForwardingHandler handler = new ForwardingHandler(System::nanoTime, SdkDiagnostics::named);
        savedUseParentHandlers = julLogger.getUseParentHandlers();
        julLogger.addHandler(handler);
        julLogger.setUseParentHandlers(false);
        installed = handler;
      }
      active.add(registration);
      registration.registered = true;
    }
    return registration;
  }

  private static void release(Registration registration) {
    synchronized (SdkDiagnostics.class) {
      if (!registration.registered) {
        return;
      }
      registration.registered = false;
      active.remove(registration);
      ForwardingHandler handler = installed;
      if (active.isEmpty() && handler != null) {
        julLogger.removeHandler(handler);
        julLogger.setUseParentHandlers(savedUseParentHandlers);
        installed = null;
      }
    }
  }

  /** Returns whether the handler is installed, for tests. */
  static synchronized boolean isInstalled() {
    return installed != null;
  }

  private static boolean slf4jHasOtherBackend() {
    try {
      String factory = LoggerFactory.getILoggerFactory().getClass().getName();
      return !factory.equals("org.slf4j.helpers.NOPLoggerFactory")
          && !factory.equals("org.slf4j.jul.JDK14LoggerFactory");
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /** The export targets of every conea SDK in use, at most a few of them, or none. */
  private static List<ExportTarget> named() {
    List<ExportTarget> targets = new ArrayList<>();
    for (Registration registration : active) {
      for (ExportTarget target : registration.targets) {
        if (!targets.contains(target)) {
          targets.add(target);
        }
      }
    }
    return targets;
  }

  /** One conea SDK's share of the routing; {@link #close()} ends it. */
  static final class Registration implements AutoCloseable {

    private final List<ExportTarget> targets = new CopyOnWriteArrayList<>();
    private boolean registered; // guarded by SdkDiagnostics.class

    /** A registration that routes nothing, only collecting targets. */
    static Registration unregistered() {
      return new Registration();
    }

    /** Names {@code target} in the diagnostics from now on. */
    void addTarget(ExportTarget target) {
      targets.add(target);
    }

    @Override
    public void close() {
      release(this);
    }
  }

  /** An exporter and where it sends spans, as written in log lines. */
  record ExportTarget(String exporter, String endpoint) {

    @Override
    public String toString() {
      return "exporter " + exporter + ", endpoint " + endpoint;
    }
  }

  /** Forwards each JUL record to the SLF4J logger of the same name, throttled per logger. */
  static final class ForwardingHandler extends Handler {

    private final LongSupplier nanoClock;
    private final java.util.function.Supplier<List<ExportTarget>> targets;
    private final Formatter formatter = new SimpleFormatter();
    private final Map<String, Budget> budgets = new LinkedHashMap<>();
    private final ThreadLocal<Boolean> forwarding = new ThreadLocal<>();

    ForwardingHandler(
        LongSupplier nanoClock, java.util.function.Supplier<List<ExportTarget>> targets) {
      this.nanoClock = nanoClock;
      this.targets = targets;
    }

    @Override
    public void publish(@Nullable LogRecord record) {
      if (record == null || forwarding.get() != null) {
        return; // a backend that logs through JUL again must not loop
      }
      forwarding.set(Boolean.TRUE);
      try {
        forward(record);
      } catch (RuntimeException | LinkageError e) {
        // A broken log must not break the exporter thread; nothing else can report it.
      } finally {
        forwarding.remove();
      }
    }

    private void forward(LogRecord record) {
      String name = record.getLoggerName() == null ? JUL_LOGGER : record.getLoggerName();
      org.slf4j.Logger logger = LoggerFactory.getLogger(name);
      org.slf4j.event.Level level = level(record.getLevel());
      if (!logger.isEnabledForLevel(level)) {
        return;
      }
      String message = formatter.formatMessage(record);
      LoggingEventBuilder event = logger.atLevel(level).setCause(record.getThrown());
      // The logging exporter's lines are the spans the service asked to see, one per span.
      if (name.startsWith("io.opentelemetry.exporter.logging")) {
        event.setMessage(message).log();
        return;
      }
      long suppressed = budget(name).trySpend(nanoClock.getAsLong());
      if (suppressed < 0) {
        return;
      }
      StringBuilder text = new StringBuilder(message);
      List<ExportTarget> named = targets.get();
      if (!named.isEmpty()) {
        StringBuilder exporters = new StringBuilder();
        StringBuilder endpoints = new StringBuilder();
        text.append(" (");
        for (int i = 0; i < named.size() && i < MAX_NAMED_TARGETS; i++) {
          ExportTarget target = named.get(i);
          text.append(i == 0 ? "" : "; ").append(target);
          exporters.append(i == 0 ? "" : ",").append(target.exporter());
          endpoints.append(i == 0 ? "" : ",").append(target.endpoint());
        }
        if (named.size() > MAX_NAMED_TARGETS) {
          text.append("; ").append(named.size() - MAX_NAMED_TARGETS).append(" more");
        }
        text.append(')');
        event.addKeyValue("exporter", exporters.toString());
        event.addKeyValue("endpoint", endpoints.toString());
      }
      if (suppressed > 0) {
        text.append(" [")
            .append(suppressed)
            .append(" earlier line(s) of ")
            .append(name)
            .append(" suppressed, at most ")
            .append(LINES_PER_MINUTE)
            .append(" per minute]");
        event.addKeyValue("suppressed", suppressed);
      }
      event.setMessage(text.toString()).log();
    }

    private Budget budget(String loggerName) {
      synchronized (budgets) {
        Budget budget = budgets.get(loggerName);
        if (budget == null) {
          String key = budgets.size() < MAX_LOGGERS ? loggerName : OTHER_LOGGERS;
          budget = budgets.computeIfAbsent(key, unused -> new Budget());
        }
        return budget;
      }
    }

    private static org.slf4j.event.Level level(@Nullable Level level) {
      int value = level == null ? Level.INFO.intValue() : level.intValue();
      if (value >= Level.SEVERE.intValue()) {
        return org.slf4j.event.Level.ERROR;
      }
      if (value >= Level.WARNING.intValue()) {
        return org.slf4j.event.Level.WARN;
      }
      if (value >= Level.INFO.intValue()) {
        return org.slf4j.event.Level.INFO;
      }
      if (value >= Level.FINE.intValue()) {
        return org.slf4j.event.Level.DEBUG;
      }
      return org.slf4j.event.Level.TRACE;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  /** {@link #LINES_PER_MINUTE} lines in each minute from the first; the rest counted. */
  private static final class Budget {

    private long windowStart;
    private int spent;
    private long suppressed;
    private boolean started;

    /**
     * Returns -1 when the line must be suppressed, else how many lines were suppressed since the
     * last one written (then reset).
     */
    synchronized long trySpend(long now) {
      if (!started || now - windowStart >= MINUTE_NANOS) {
        started = true;
        windowStart = now;
        spent = 0;
      }
      if (spent >= LINES_PER_MINUTE) {
        suppressed++;
        return -1;
      }
      spent++;
      long reported = suppressed;
      suppressed = 0;
      return reported;
    }
  }
}
