package io.conea.logging;

import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.IdentityHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Writes a throwable, its causes and its suppressed throwables as the text of one JSON string, in
 * the layout Logback prints: {@code Caused by:} and tab-indented {@code Suppressed:} sections,
 * frames shared with the enclosing trace elided as {@code ... N common frames omitted}.
 *
 * <p>Bounded for any input: at most {@code maxFrames} frames per throwable, suppressed sections
 * nested at most {@link #MAX_NESTING} deep, and the string's own character cap, which also stops
 * the walk early. A throwable met twice (a cycle, or one shared by two branches) is printed once
 * and then as {@code [CIRCULAR REFERENCE: ...]}, found by identity so that no {@code equals} of
 * user code runs.
 */
final class StackTraceWriter {

  /**
   * {@code IThrowableProxy.getOverridingMessage()}, which Logback has since 1.5.22 (a throwable
   * whose {@code toString()} is its own), or null in the older versions conea supports.
   */
  private static final @Nullable MethodHandle OVERRIDING_MESSAGE = overridingMessageHandle();

  /** Deepest nesting of suppressed sections that is written out. */
  static final int MAX_NESTING = 8;

  private final int maxFrames;
  private final IdentityHashMap<IThrowableProxy, Boolean> seen = new IdentityHashMap<>();
  private boolean firstLine;

  StackTraceWriter(int maxFrames) {
    this.maxFrames = maxFrames;
  }

  /** Appends the text of {@code root} to the string being written by {@code out}. */
  void write(JsonWriter out, IThrowableProxy root) {
    firstLine = true;
    try {
      writeChain(out, root, "", 0, 0);
    } finally {
      seen.clear();
    }
  }

  private void writeChain(
      JsonWriter out, IThrowableProxy first, String prefix, int indent, int nesting) {
    String linePrefix = prefix;
    for (IThrowableProxy current = first;
        current != null && !out.stringFull();
        current = current.getCause()) {
      startLine(out, indent);
      out.append(linePrefix);
      if (current.isCyclic() || seen.put(current, Boolean.TRUE) != null) {
        out.append("[CIRCULAR REFERENCE: ");
        header(out, current);
        out.append(']');
        return;
      }
      header(out, current);
      frames(out, current, indent + 1);
      IThrowableProxy[] suppressed = current.getSuppressed();
      if (suppressed != null) {
        for (int i = 0; i < suppressed.length && !out.stringFull(); i++) {
          if (suppressed[i] == null) {
            continue;
          }
          if (nesting < MAX_NESTING) {
            writeChain(out, suppressed[i], "Suppressed: ", indent + 1, nesting + 1);
          } else {
            startLine(out, indent + 1);
            out.append("Suppressed: [nested too deep, omitted]");
          }
        }
      }
      linePrefix = "Caused by: ";
    }
  }

  private static void header(JsonWriter out, IThrowableProxy throwable) {
    String overriding = overridingMessage(throwable);
    if (overriding != null) {
      out.append(overriding);
      return;
    }
    out.append(throwable.getClassName());
    String message = throwable.getMessage();
    if (message != null) {
      out.append(": ");
      out.append(message);
    }
  }

  private static @Nullable String overridingMessage(IThrowableProxy throwable) {
    if (OVERRIDING_MESSAGE == null) {
      return null;
    }
    try {
      return (String) OVERRIDING_MESSAGE.invokeExact(throwable);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  private static @Nullable MethodHandle overridingMessageHandle() {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(
              IThrowableProxy.class, "getOverridingMessage", MethodType.methodType(String.class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }

  private void frames(JsonWriter out, IThrowableProxy throwable, int indent) {
    StackTraceElementProxy[] frames = throwable.getStackTraceElementProxyArray();
    int length = frames == null ? 0 : frames.length;
    int common = Math.max(0, Math.min(throwable.getCommonFrames(), length));
    int own = length - common;
    int written = Math.min(own, maxFrames);
    for (int i = 0; i < written && !out.stringFull(); i++) {
      StackTraceElement element = frames[i] == null ? null : frames[i].getStackTraceElement();
      if (element != null) {
        startLine(out, indent);
        out.append("at ");
        element(out, element);
      }
    }
    if (own > written) {
      startLine(out, indent);
      out.append("... ");
      out.append(own - written);
      out.append(" frames truncated");
    }
    if (common > 0) {
      startLine(out, indent);
      out.append("... ");
      out.append(common);
      out.append(" common frames omitted");
    }
  }

  // The JDK's StackTraceElement.toString() format, minus class loader names and module versions,
  // written piece by piece so that nothing is allocated.
  private static void element(JsonWriter out, StackTraceElement element) {
    String module = element.getModuleName();
    if (module != null) {
      out.append(module);
      out.append('/');
    }
    out.append(element.getClassName());
    out.append('.');
    out.append(element.getMethodName());
    out.append('(');
    String file = element.getFileName();
    if (element.isNativeMethod()) {
      out.append("Native Method");
    } else if (file == null) {
      out.append("Unknown Source");
    } else {
      out.append(file);
      if (element.getLineNumber() >= 0) {
        out.append(':');
        out.append(element.getLineNumber());
      }
    }
    out.append(')');
  }

  private void startLine(JsonWriter out, int indent) {
    if (!firstLine) {
      out.append('\n');
    }
    firstLine = false;
    for (int i = 0; i < indent; i++) {
      out.append('\t');
    }
  }
}
