package io.conea.metrics.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.jspecify.annotations.Nullable;

/**
 * Checks, when a conea component is built, that the run-time libraries on the class path are at
 * least the versions conea supports (its baseline), so that an older library fails at start-up with
 * a message naming the library, the version found and the version needed, rather than with a {@link
 * LinkageError} on a request.
 *
 * <p>A library's version is read from the manifest of the jar that holds one of its classes ({@code
 * Bundle-Version}, else {@code Implementation-Version}). A class path that does not say (a
 * repackaged jar whose manifest is the application's own) is not rejected on that ground.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class Compatibility {

  /** Micrometer, whose version micrometer-core's manifest gives. */
  public static final Library MICROMETER =
      new Library(
          "Micrometer",
          "io.micrometer:micrometer-core",
          "micrometer",
          "io.micrometer.core.instrument.MeterRegistry",
          "micrometer.core");

  /** Prometheus client_java, as used by Micrometer's Prometheus registry. */
  public static final Library PROMETHEUS_METRICS =
      new Library(
          "Prometheus client_java",
          "io.prometheus:prometheus-metrics-model",
          "prometheus-metrics",
          "io.prometheus.metrics.model.registry.PrometheusRegistry",
          "io.prometheus.metrics.model");

  /** The OpenTelemetry API. */
  public static final Library OPENTELEMETRY_API =
      new Library(
          "OpenTelemetry API",
          "io.opentelemetry:opentelemetry-api",
          "opentelemetry",
          "io.opentelemetry.api.OpenTelemetry",
          "io.opentelemetry.api");

  /** The OpenTelemetry context library, which propagation goes through. */
  public static final Library OPENTELEMETRY_CONTEXT =
      new Library(
          "OpenTelemetry context",
          "io.opentelemetry:opentelemetry-context",
          "opentelemetry",
          "io.opentelemetry.context.Context",
          "io.opentelemetry.context");

  /** The OpenTelemetry SDK. */
  public static final Library OPENTELEMETRY_SDK =
      new Library(
          "OpenTelemetry SDK",
          "io.opentelemetry:opentelemetry-sdk-trace",
          "opentelemetry",
          "io.opentelemetry.sdk.trace.SdkTracerProvider",
          "io.opentelemetry.sdk.trace");

  /** The SLF4J API. */
  public static final Library SLF4J =
      new Library("SLF4J", "org.slf4j:slf4j-api", "slf4j", "org.slf4j.Logger", "slf4j.api");

  /** The Jakarta Servlet API, whose version the container states. */
  public static final Library JAKARTA_SERVLET =
      new Library(
          "Jakarta Servlet",
          "jakarta.servlet:jakarta.servlet-api",
          "jakarta-servlet",
          "jakarta.servlet.Filter",
          "jakarta.servlet");

  /** Netty's HTTP codec. */
  public static final Library NETTY =
      new Library(
          "Netty",
          "io.netty:netty-codec-http",
          "netty",
          "io.netty.handler.codec.http.HttpRequest",
          "io.netty.codec.http");

  /** The AspectJ run time. */
  public static final Library ASPECTJ =
      new Library(
          "AspectJ",
          "org.aspectj:aspectjrt",
          "aspectj",
          "org.aspectj.lang.JoinPoint",
          "org.aspectj.runtime");

  private static final Properties BASELINE = load();

  /**
   * The libraries found new enough, per class loader of the component that asked, so that a
   * component built per connection checks once, and a conea shared by several applications (a
   * container's common loader) still checks each of them.
   */
  private static final Map<ClassLoader, Set<Library>> SATISFIED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private Compatibility() {}

  /**
   * Throws {@link IllegalStateException} unless each library is on the class path of {@code
   * component}'s class loader in at least its baseline version.
   *
   * @param component the conea component being built, named in the message
   */
  public static void require(Class<?> component, Library... libraries) {
    ClassLoader loader = component.getClassLoader();
    Set<Library> satisfied =
        loader == null
            ? ConcurrentHashMap.newKeySet()
            : SATISFIED.computeIfAbsent(loader, ignored -> ConcurrentHashMap.newKeySet());
    for (Library library : libraries) {
      if (!satisfied.contains(library)) {
        require(component.getSimpleName(), loader, library);
        satisfied.add(library);
      }
    }
  }

  /** As {@link #require(Class, Library...)}, with the class loader to look in given. */
  static void require(String component, @Nullable ClassLoader loader, Library library) {
    String needed = minimum(library);
    URL classFile = resource(loader, library.anchorClass().replace('.', '/') + ".class");
    if (classFile == null) {
      throw new IllegalStateException(
          component
              + " needs "
              + library.name()
              + " "
              + needed
              + " or newer ("
              + library.coordinates()
              + "), but it is not on the class path");
    }
    String found = version(classFile, library);
    if (found != null && compare(found, needed) < 0) {
      throw new IllegalStateException(
          component
              + " needs "
              + library.name()
              + " "
              + needed
              + " or newer, but the class path has "
              + found
              + " ("
              + jarOf(classFile, library.anchorClass())
              + "). Upgrade "
              + library.coordinates()
              + " (and the libraries released with it) to "
              + needed
              + " or newer.");
    }
  }

  /** Returns the oldest version of {@code library} that conea supports. */
  public static String minimum(Library library) {
    return requireNonNull(
        BASELINE.getProperty(library.baselineKey()), "no baseline for " + library.baselineKey());
  }

  /**
   * Compares two versions by their numeric components ({@code 4.1.121.Final} &lt; {@code
   * 4.2.7.Final}, {@code 1.5.9} &lt; {@code 1.5.18}); a qualifier after the numbers is ignored.
   */
  static int compare(String a, String b) {
    int[] x = numbers(a);
    int[] y = numbers(b);
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int p = i < x.length ? x[i] : 0;
      int q = i < y.length ? y[i] : 0;
      if (p != q) {
        return Integer.compare(p, q);
      }
    }
    return 0;
  }

  private static int[] numbers(String version) {
    String[] parts = version.split("[.\\-_]");
    int[] numbers = new int[parts.length];
    int count = 0;
    for (String part : parts) {
      if (part.isEmpty() || !part.chars().allMatch(Character::isDigit) || part.length() > 9) {
        break;
      }
      numbers[count++] = Integer.parseInt(part);
    }
    return java.util.Arrays.copyOf(numbers, count);
  }

  private static @Nullable URL resource(@Nullable ClassLoader loader, String name) {
    return loader == null ? ClassLoader.getSystemResource(name) : loader.getResource(name);
  }

  /**
   * Reads the version from the manifest beside {@code classFile}, or returns null if that manifest
   * states none or is not the library's own: the classes of a shaded or repackaged jar sit beside
   * the application's manifest, whose version says nothing about the library.
   */
  static @Nullable String version(URL classFile, Library library) {
    String root = jarOf(classFile, library.anchorClass());
    if (root == null) {
      return null;
    }
    try {
      URLConnection connection =
          java.net.URI.create(root + "META-INF/MANIFEST.MF").toURL().openConnection();
      connection.setUseCaches(false);
      try (InputStream in = connection.getInputStream()) {
        Attributes attributes = new Manifest(in).getMainAttributes();
        String moduleName = attributes.getValue("Automatic-Module-Name");
        String symbolicName = attributes.getValue("Bundle-SymbolicName");
        if (symbolicName != null) {
          symbolicName = symbolicName.split(";", 2)[0].trim();
        }
        if (!library.moduleName().equals(moduleName)
            && !library.moduleName().equals(symbolicName)
            && !library.moduleName().replace('.', '-').equals(symbolicName)) {
          return null;
        }
        String version = attributes.getValue("Bundle-Version");
        if (version == null) {
          version = attributes.getValue(Attributes.Name.IMPLEMENTATION_VERSION);
        }
        return version == null || numbers(version).length == 0 ? null : version.trim();
      }
    } catch (IOException | IllegalArgumentException e) {
      // No manifest (a class directory) or one that cannot be read: the version is unknown.
      return null;
    }
  }

  private static @Nullable String jarOf(URL classFile, String className) {
    String url = classFile.toString();
    String suffix = className.replace('.', '/') + ".class";
    return url.startsWith("jar:") && url.endsWith("!/" + suffix)
        ? url.substring(0, url.length() - suffix.length())
        : null;
  }

  private static Properties load() {
    Properties properties = new Properties();
    try (InputStream in = Compatibility.class.getResourceAsStream("baseline.properties")) {
      properties.load(requireNonNull(in, "baseline.properties is missing from conea-metrics"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties;
  }

  /**
   * A run-time library: its name for people, its Maven coordinates, its key in the baseline, and a
   * class it always has.
   */
  public record Library(
      String name, String coordinates, String baselineKey, String anchorClass, String moduleName) {}
}
