package io.conea.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * The oldest Logback that conea-logging supports, and the check that the class path has at least
 * that one, so that an older Logback stops the encoder at start-up with a message that names both
 * versions rather than failing on events.
 */
final class LogbackBaseline {

  /** The minimum, from the build (the parent pom's {@code baseline.logback.version}). */
  static final String MINIMUM = load();

  /** The Implementation-Title of logback-classic's manifest. */
  private static final String LOGBACK_TITLE = "Logback Classic Module";

  private LogbackBaseline() {}

  /** Returns why the Logback on the class path is too old, or null if it is not (or unknown). */
  static @Nullable String problem() {
    Package logback = ILoggingEvent.class.getPackage();
    // A shaded jar's manifest is the application's: only Logback's own states Logback's version.
    String found =
        LOGBACK_TITLE.equals(logback.getImplementationTitle())
            ? logback.getImplementationVersion()
            : null;
    if (found == null || isAtLeast(found, MINIMUM)) {
      return null;
    }
    return "conea-logging needs Logback "
        + MINIMUM
        + " or newer (ch.qos.logback:logback-classic), but the class path has "
        + found
        + "; upgrade logback-classic and logback-core to "
        + MINIMUM
        + " or newer";
  }

  /** Compares dotted numeric versions ({@code 1.5.9} is older than {@code 1.5.18}). */
  static boolean isAtLeast(String version, String minimum) {
    String[] have = version.split("[.\\-]");
    String[] need = minimum.split("[.\\-]");
    for (int i = 0; i < need.length; i++) {
      int h = i < have.length ? number(have[i]) : 0;
      int n = number(need[i]);
      if (h != n) {
        return h > n;
      }
    }
    return true;
  }

  private static int number(String part) {
    return part.matches("\\d{1,9}") ? Integer.parseInt(part) : 0;
  }

  private static String load() {
    Properties properties = new Properties();
    try (InputStream in = LogbackBaseline.class.getResourceAsStream("baseline.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      // Packaged with the class; without it no version is refused.
    }
    return properties.getProperty("logback", "0");
  }
}
