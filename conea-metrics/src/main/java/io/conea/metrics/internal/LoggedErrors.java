package io.conea.metrics.internal;

import java.lang.ref.WeakReference;
import org.jspecify.annotations.Nullable;

/**
 * The exception that conea last logged on each thread as the end of a failed request, so that a log
 * filter can drop the container's second report of the same exception (Tomcat and Jetty log an
 * exception that escapes the filter chain once more, after the request's scope has closed).
 *
 * <p>Held weakly: a thread that logs nothing else keeps no exception alive.
 */
public final class LoggedErrors {

  private static final ThreadLocal<@Nullable WeakReference<Throwable>> LAST = new ThreadLocal<>();

  private LoggedErrors() {}

  /** Notes that {@code error} was logged on this thread. */
  public static void note(Throwable error) {
    LAST.set(new WeakReference<>(error));
  }

  /**
   * Returns whether {@code reported} is the exception last noted on this thread or wraps it (a
   * container reports the exception a framework wrapped), checking at most a few causes.
   */
  public static boolean alreadyLogged(@Nullable Throwable reported) {
    if (reported == null) {
      return false;
    }
    WeakReference<Throwable> last = LAST.get();
    Throwable noted = last == null ? null : last.get();
    if (noted == null) {
      return false;
    }
    Throwable current = reported;
    for (int i = 0; i < 8 && current != null; i++) {
      if (current == noted) {
        return true;
      }
      Throwable cause = current.getCause();
      current = cause == current ? null : cause;
    }
    return false;
  }
}
