package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StackTraceWriterTest {

  private static final byte[] NAME = "\"v\":".getBytes(StandardCharsets.UTF_8);

  private static String trace(IThrowableProxy throwable, int maxFrames, int maxChars) {
    int capacity = 1 << 20;
    JsonWriter writer = new JsonWriter(capacity);
    writer.reset(capacity - 16);
    writer.beginObject();
    writer.name(NAME, JsonWriter.MIN_VALUE_BYTES);
    writer.beginString(maxChars);
    new StackTraceWriter(maxFrames).write(writer, throwable);
    writer.endString();
    writer.endObject();
    writer.newline();
    return LogCapture.checkLine(writer.toByteArray()).get("v").asText();
  }

  private static Exception nested() {
    IOException io = new IOException("disk full");
    io.addSuppressed(new IllegalStateException("close failed"));
    try {
      throw new UncheckedIOException("write failed", io);
    } catch (UncheckedIOException e) {
      IllegalArgumentException top = new IllegalArgumentException("request failed", e);
      top.addSuppressed(new RuntimeException((String) null));
      return top;
    }
  }

  @Test
  void writesTheSameTextAsLogbackWhenNothingIsCut() {
    ThrowableProxy proxy = new ThrowableProxy(nested());
    // Logback before 1.5.22 prints a null message as ": null"; conea writes a throwable's header
    // as Throwable.toString() does, on every Logback version.
    String logback =
        ThrowableProxyUtil.asString(proxy)
            .replace("java.lang.RuntimeException: null\n", "java.lang.RuntimeException\n");
    assertThat(trace(proxy, 10_000, 1_000_000) + "\n").isEqualTo(logback);
  }

  @Test
  void printsCausesSuppressedAndCommonFramesInLogbackLayout() {
    String text = trace(new ThrowableProxy(nested()), 10_000, 1_000_000);
    assertThat(text)
        .startsWith("java.lang.IllegalArgumentException: request failed\n\tat ")
        .contains("\n\tSuppressed: java.lang.RuntimeException\n\t\tat ")
        .contains("\nCaused by: java.io.UncheckedIOException: write failed\n\tat ")
        .contains("\nCaused by: java.io.IOException: disk full\n")
        .contains("\n\tSuppressed: java.lang.IllegalStateException: close failed\n")
        .containsPattern("\n\t\\.\\.\\. \\d+ common frames omitted")
        .doesNotEndWith("\n");
  }

  @Test
  void boundsFramesPerThrowable() {
    Exception e = new Exception("deep");
    e.setStackTrace(frames(500));
    String text = trace(new ThrowableProxy(e), 3, 1_000_000);
    assertThat(text.split("\n"))
        .containsExactly(
            "java.lang.Exception: deep",
            "\tat com.example.Deep.level0(Deep.java:1)",
            "\tat com.example.Deep.level1(Deep.java:2)",
            "\tat com.example.Deep.level2(Deep.java:3)",
            "\t... 497 frames truncated");
  }

  @Test
  void writesNativeUnknownAndModuleFramesLikeTheJdk() {
    Exception e = new Exception("frames");
    e.setStackTrace(
        new StackTraceElement[] {
          new StackTraceElement("a.B", "n", "B.java", -2),
          new StackTraceElement("a.B", "u", null, -1),
          new StackTraceElement("a.B", "f", "B.java", -1),
          new StackTraceElement(
              null, "java.base", "17", "java.lang.Thread", "run", "Thread.java", 9)
        });
    assertThat(trace(new ThrowableProxy(e), 10, 10_000).split("\n"))
        .containsExactly(
            "java.lang.Exception: frames",
            "\tat a.B.n(Native Method)",
            "\tat a.B.u(Unknown Source)",
            "\tat a.B.f(B.java)",
            "\tat java.base/java.lang.Thread.run(Thread.java:9)");
  }

  @Test
  void stopsAtTheCharacterCapWithTheMarker() {
    Exception e = new Exception("long");
    e.setStackTrace(frames(10_000));
    String text = trace(new ThrowableProxy(e), 100_000, 300);
    assertThat(text).hasSize(300 + JsonWriter.MARKER.length()).endsWith(JsonWriter.MARKER);
  }

  @Test
  void printsACycleOnceByIdentityEvenWhenTheProxyDoesNotFlagIt() {
    FakeProxy a = new FakeProxy("A", "first");
    FakeProxy b = new FakeProxy("B", "second");
    a.cause = b;
    b.cause = a;
    b.suppressed = new IThrowableProxy[] {b};
    assertThat(trace(a, 10, 10_000).split("\n"))
        .containsExactly(
            "A: first",
            "Caused by: B: second",
            "\tSuppressed: [CIRCULAR REFERENCE: B: second]",
            "Caused by: [CIRCULAR REFERENCE: A: first]");
  }

  @Test
  void printsLogbacksCyclicMarkerForCyclicCauses() {
    Exception a = new Exception("a");
    Exception b = new Exception("b", a);
    a.initCause(b);
    String text = trace(new ThrowableProxy(a), 1, 10_000);
    assertThat(text).contains("Caused by: [CIRCULAR REFERENCE: java.lang.Exception: a]");
  }

  @Test
  void boundsTheNestingOfSuppressedSections() {
    FakeProxy root = new FakeProxy("R", null);
    FakeProxy current = root;
    for (int i = 0; i < 20; i++) {
      FakeProxy next = new FakeProxy("S" + i, null);
      current.suppressed = new IThrowableProxy[] {next};
      current = next;
    }
    String[] lines = trace(root, 10, 100_000).split("\n");
    assertThat(lines).hasSize(StackTraceWriter.MAX_NESTING + 2);
    assertThat(lines[lines.length - 1])
        .isEqualTo(
            "\t".repeat(StackTraceWriter.MAX_NESTING + 1)
                + "Suppressed: [nested too deep, omitted]");
  }

  static StackTraceElement[] frames(int count) {
    StackTraceElement[] frames = new StackTraceElement[count];
    for (int i = 0; i < count; i++) {
      frames[i] = new StackTraceElement("com.example.Deep", "level" + i, "Deep.java", i + 1);
    }
    return frames;
  }

  /** A throwable proxy that, unlike Logback's, does not flag cycles itself. */
  static final class FakeProxy implements IThrowableProxy {
    final String className;
    final String message;
    IThrowableProxy cause;
    IThrowableProxy[] suppressed = new IThrowableProxy[0];

    FakeProxy(String className, String message) {
      this.className = className;
      this.message = message;
    }

    @Override
    public String getMessage() {
      return message;
    }

    @Override
    public String getClassName() {
      return className;
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
      return new StackTraceElementProxy[0];
    }

    @Override
    public int getCommonFrames() {
      return 0;
    }

    @Override
    public IThrowableProxy getCause() {
      return cause;
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
      return suppressed;
    }

    @Override
    public boolean isCyclic() {
      return false;
    }
  }
}
