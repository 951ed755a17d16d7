package io.conea.metrics.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompatibilityTest {

  @TempDir Path dir;

  @Test
  void versionsCompareByTheirNumbers() {
    assertThat(Compatibility.compare("1.5.18", "1.5.9")).isPositive();
    assertThat(Compatibility.compare("4.1.121.Final", "4.2.7.Final")).isNegative();
    assertThat(Compatibility.compare("1.49.0", "1.49")).isZero();
    assertThat(Compatibility.compare("1.55.0-alpha", "1.55.0")).isZero();
    assertThat(Compatibility.compare("2.0.17", "2.0.20")).isNegative();
  }

  @Test
  void theBaselineComesFromTheBuild() {
    assertThat(Compatibility.minimum(Compatibility.MICROMETER)).matches("\\d+\\.\\d+\\.\\d+");
    assertThat(Compatibility.minimum(Compatibility.OPENTELEMETRY_API))
        .matches("\\d+\\.\\d+\\.\\d+");
    assertThat(Compatibility.minimum(Compatibility.NETTY)).startsWith("4.1.");
  }

  @Test
  void theLibrariesOnThisClassPathAreNewEnough() {
    assertThatCode(
            () ->
                Compatibility.require(
                    CompatibilityTest.class,
                    Compatibility.MICROMETER,
                    Compatibility.PROMETHEUS_METRICS,
                    Compatibility.SLF4J))
        .doesNotThrowAnyException();
    assertThatCode(() -> PrometheusMetrics.create().close()).doesNotThrowAnyException();
  }

  @Test
  void anOlderLibraryFailsWithItsNameAndBothVersions() throws IOException {
    Path jar = jar("micrometer-core-1.9.0.jar", "1.9.0", "micrometer.core");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertThatThrownBy(
              () -> Compatibility.require("ConeaMetrics", loader, Compatibility.MICROMETER))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("ConeaMetrics needs Micrometer")
          .hasMessageContaining(Compatibility.minimum(Compatibility.MICROMETER) + " or newer")
          .hasMessageContaining("the class path has 1.9.0")
          .hasMessageContaining("micrometer-core-1.9.0.jar")
          .hasMessageContaining("io.micrometer:micrometer-core");
    }
  }

  @Test
  void aMissingLibraryIsNamed() throws IOException {
    try (URLClassLoader loader = new URLClassLoader(new URL[0], null)) {
      assertThatThrownBy(
              () -> Compatibility.require("ConeaTracing", loader, Compatibility.OPENTELEMETRY_SDK))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("ConeaTracing needs OpenTelemetry SDK")
          .hasMessageContaining("not on the class path");
    }
  }

  @Test
  void aNewerOrUnversionedJarPasses() throws IOException {
    Path newer = jar("micrometer-core-9.0.0.jar", "9.0.0", "micrometer.core");
    Path unversioned = jar("repackaged.jar", null, "micrometer.core");
    // A shaded application jar: its own manifest and version, the library's classes inside.
    Path shaded = jar("my-service-1.2.0.jar", "1.2.0", "com.example.service");
    for (Path jar : new Path[] {newer, unversioned, shaded}) {
      try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
        assertThatCode(
                () -> Compatibility.require("ConeaMetrics", loader, Compatibility.MICROMETER))
            .doesNotThrowAnyException();
      }
    }
  }

  @Test
  void theRealJarsVersionIsRead() {
    URL classFile =
        ConeaMetrics.class
            .getClassLoader()
            .getResource("io/micrometer/core/instrument/MeterRegistry.class");
    assertThat(Compatibility.version(classFile, Compatibility.MICROMETER))
        .matches("\\d+\\.\\d+\\.\\d+.*");
  }

  /**
   * A jar holding Micrometer's anchor class (empty) and a manifest with the given version and
   * module name.
   */
  private Path jar(String name, String version, String moduleName) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Automatic-Module-Name", moduleName);
    if (version != null) {
      manifest.getMainAttributes().putValue("Bundle-Version", version);
    }
    Path jar = dir.resolve(name);
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream jarOut = new JarOutputStream(out, manifest)) {
      jarOut.putNextEntry(new JarEntry("io/micrometer/core/instrument/MeterRegistry.class"));
      jarOut.closeEntry();
    }
    return jar;
  }
}
