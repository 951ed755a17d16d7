package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.conea.metrics.servlet.MetricsServlet;
import io.prometheus.metrics.model.registry.Collector;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class PrometheusMetricsTest {

  private static final long MS = 1_000_000L;
  private static final String OPENMETRICS =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
          + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

  private PrometheusMetrics prometheus = PrometheusMetrics.builder().jvmMetrics(false).build();

  @AfterEach
  void close() {
    prometheus.close();
  }

  private ConeaMetrics metrics() {
    return ConeaMetrics.builder(prometheus.registry()).build();
  }

  static String text(Scrape scrape) {
    return new String(scrape.body(), StandardCharsets.UTF_8);
  }

  static String gunzip(byte[] body) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void scrapesPrometheusTextByDefault() {
    metrics().http().record("GET", "/a", "/a", 200, MS);

    Scrape scrape = prometheus.scrape(null, null);

    assertThat(scrape.status()).isEqualTo(200);
    assertThat(scrape.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    assertThat(scrape.contentEncoding()).isNull();
    assertThat(scrape.contentLength()).isEqualTo(scrape.body().length);
    assertThat(text(scrape))
        .contains("http_requests_total{endpoint=\"/a\",method=\"GET\",status=\"200\"} 1.0")
        .doesNotContain("# EOF");
  }

  @Test
  void scrapesOpenMetricsWhenPrometheusAsksForIt() {
    metrics().http().record("GET", "/a", "/a", 200, MS);

    Scrape scrape = prometheus.scrape(OPENMETRICS, null);

    assertThat(scrape.contentType())
        .isEqualTo("application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(text(scrape))
        .contains("# TYPE http_requests counter")
        .contains("http_requests_total{endpoint=\"/a\",method=\"GET\",status=\"200\"} 1.0")
        .doesNotContain("_created")
        .endsWith("# EOF\n");
  }

  @Test
  void compressesWhenGzipIsAccepted() throws IOException {
    metrics().http().record("GET", "/a", "/a", 200, MS);
    String plain = text(prometheus.scrape(null, null));

    Scrape scrape = prometheus.scrape(null, "deflate, gzip");

    assertThat(scrape.contentEncoding()).isEqualTo("gzip");
    assertThat(gunzip(scrape.body())).isEqualTo(plain);
    assertThat(prometheus.scrape(null, "br").contentEncoding()).isNull();
  }

  @Test
  void exemplarsFromTheSpanContextAppearInOpenMetricsOnly() {
    prometheus.close();
    prometheus =
        PrometheusMetrics.builder().exemplars(new TestSpanContext()).jvmMetrics(false).build();
    metrics().http().record("GET", "/a", "/a", 200, 30 * MS);

    String openMetrics = text(prometheus.scrape(OPENMETRICS, null));
    String exemplar =
        "# {span_id=\""
            + TestSpanContext.SPAN_ID
            + "\",trace_id=\""
            + TestSpanContext.TRACE_ID
            + "\"} ";
    assertThat(openMetrics.lines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "http_request_duration_seconds_bucket{endpoint=\"/a\",method=\"GET\","
                            + "le=\"0.05\"} 1 "
                            + exemplar
                            + "0.03 "))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "http_requests_total{endpoint=\"/a\",method=\"GET\",status=\"200\"} 1.0 "
                            + exemplar));
    // Prometheus before 2.43 rejects a scrape with an exemplar on a histogram's _count.
    assertThat(openMetrics.lines())
        .filteredOn(line -> line.startsWith("http_request_duration_seconds_count"))
        .singleElement()
        .satisfies(line -> assertThat(line).doesNotContain("trace_id"));
    assertThat(text(prometheus.scrape(null, null))).doesNotContain("trace_id");
  }

  @Test
  void nameParametersSelectMetrics() {
    ConeaMetrics metrics = metrics();
    metrics.http().record("GET", "/a", "/a", 200, MS);
    metrics.recordUserActivity();

    Scrape scrape = prometheus.scrape(null, null, "name[]=user_activity_total");

    assertThat(Samples.parse(text(scrape)).names()).containsExactly("user_activity_total");
    assertThat(prometheus.scrape(null, null, "name[]=%zz").status()).isEqualTo(400);
  }

  @Test
  void aFailingCollectorGivesStatus500AndOneWarningNeverAnException() {
    prometheus
        .registry()
        .getPrometheusRegistry()
        .register(
            (Collector)
                () -> {
                  throw new IllegalStateException("collector broke");
                });
    try (LogCapture log = new LogCapture(PrometheusMetrics.class)) {
      Scrape first = prometheus.scrape(null, null);
      Scrape second = prometheus.scrape(OPENMETRICS, "gzip");

      assertThat(first.status()).isEqualTo(500);
      assertThat(second.status()).isEqualTo(500);
      assertThat(first.contentType()).isEqualTo("text/plain; charset=utf-8");
      assertThat(text(first)).contains("scrape failed");
      assertThat(log.warnings())
          .containsExactly("A metrics scrape failed; later failures answer 500 without this log");
    }
  }

  @Test
  void scrapeOfTheGuideMetersWithHostileLabelValuesPassesPromtool() throws Exception {
    ConeaMetrics metrics = metrics();
    metrics.http().record("GET", "/api/v1/users/{id}", "/api/v1/users/1", 200, 3 * MS);
    metrics.http().record("BREW", null, "/x/\"q\"\\n/\u65e5\u672c", 418, 3 * MS);
    metrics.http().record("GET", null, "/nowhere", 404, MS);
    metrics.http().record("GET", null, "/\n\t\u0000", 200, MS);
    metrics
        .ai()
        .record(AiCallOutcome.success("openai", "gpt-4 \"turbo\"\n", 2_000 * MS, 10, 20, 0.01));
    metrics.recordJob("a\\b", false);
    metrics.recordUserActivity();
    metrics.connectionOpened();

    PromtoolResult result = promtool(text(prometheus.scrape(null, null)));

    assertThat(result.output()).isEmpty();
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void aRegistryCreatedElsewhereIsScrapedAndLeftAsFound() {
    io.micrometer.prometheusmetrics.PrometheusMeterRegistry theirs =
        new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    theirs.counter("their.own").increment();
    PrometheusMetrics scrape = PrometheusMetrics.of(theirs);
    ConeaMetrics.create(theirs).http().record("GET", "/a", "/a", 200, MS);

    String text = text(scrape.scrape(null, null));
    assertThat(text)
        .contains("their_own_total 1.0")
        .contains("http_requests_total{endpoint=\"/a\",method=\"GET\",status=\"200\"} 1")
        .doesNotContain("jvm_");
    scrape.close();
    assertThat(theirs.isClosed()).isFalse();
    theirs.close();
  }

  @Test
  void defaultScrapeWithJvmMetersPassesPromtool() throws Exception {
    prometheus.close();
    prometheus = PrometheusMetrics.create();
    try (ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry())) {
      metrics.http().record("GET", "/a", "/a", 200, MS);
      metrics.recordUserActivity();
      System.gc();

      PromtoolResult result = promtool(text(prometheus.scrape(null, null)));

      assertThat(result.output()).isEmpty();
      assertThat(result.exitCode()).isZero();
      String scrape = text(prometheus.scrape(null, null));
      assertThat(scrape)
          .contains("jvm_memory_used_bytes")
          .contains("process_cpu_usage")
          .contains("system_cpu_logical_processors")
          .doesNotContain("system_cpu_count")
          .doesNotContain("process_cpu_time");
    }
  }

  record PromtoolResult(int exitCode, String output) {}

  private static PromtoolResult promtool(String scrape) throws Exception {
    Path promtool = findOnPath("promtool");
    if (promtool == null) {
      if (System.getenv("CI") != null) {
        fail("promtool is required when CI is set: install the Debian package 'prometheus'");
      }
      Assumptions.abort(
          "promtool not found on PATH; install the Debian package 'prometheus' to run this check");
    }
    Process process =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = process.getOutputStream()) {
      in.write(scrape.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new PromtoolResult(process.exitValue(), output);
  }

  private static Path findOnPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, command);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  @Test
  void worksWithoutTheServletApiOnTheClassPath() throws Exception {
    ClassLoader loader = new WithoutServletApi(getClass().getClassLoader());
    assertThatThrownBy(() -> loader.loadClass("jakarta.servlet.http.HttpServlet"))
        .isInstanceOf(ClassNotFoundException.class);

    Class<?> prometheusClass = Class.forName(PrometheusMetrics.class.getName(), true, loader);
    assertThat(prometheusClass.getClassLoader()).isSameAs(loader);
    Object isolated = prometheusClass.getMethod("create").invoke(null);
    Object registry = prometheusClass.getMethod("registry").invoke(isolated);
    Class<?> coneaClass = Class.forName(ConeaMetrics.class.getName(), true, loader);
    Object metrics =
        coneaClass
            .getMethod("create", io.micrometer.core.instrument.MeterRegistry.class)
            .invoke(null, registry);
    coneaClass.getMethod("recordUserActivity").invoke(metrics);
    Object handler = prometheusClass.getMethod("httpHandler").invoke(isolated);
    Object scrape =
        prometheusClass
            .getMethod("scrape", String.class, String.class)
            .invoke(isolated, null, null);
    Method body = scrape.getClass().getMethod("body");

    assertThat(handler).isInstanceOf(com.sun.net.httpserver.HttpHandler.class);
    assertThat(new String((byte[]) body.invoke(scrape), StandardCharsets.UTF_8))
        .contains("user_activity_total 1.0");
    // Reflection over every method, as dependency injection frameworks do, must work too.
    assertThat(prometheusClass.getDeclaredMethods()).isNotEmpty();
    assertThat(coneaClass.getDeclaredMethods()).isNotEmpty();
    // The servlet itself does need the API, which shows that the loader really hides it.
    assertThatThrownBy(() -> Class.forName(MetricsServlet.class.getName(), true, loader))
        .isInstanceOf(NoClassDefFoundError.class);
  }

  /** Defines this module's classes itself and hides the Servlet API from them. */
  private static final class WithoutServletApi extends ClassLoader {

    WithoutServletApi(ClassLoader parent) {
      super("without-servlet-api", parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (name.startsWith("jakarta.servlet.")) {
          throw new ClassNotFoundException(name);
        }
        if (!name.startsWith("io.conea.metrics.")) {
          return super.loadClass(name, resolve);
        }
        Class<?> loaded = findLoadedClass(name);
        if (loaded == null) {
          String resource = name.replace('.', '/') + ".class";
          try (InputStream in = getParent().getResourceAsStream(resource)) {
            if (in == null) {
              throw new ClassNotFoundException(name);
            }
            byte[] bytes = in.readAllBytes();
            loaded = defineClass(name, bytes, 0, bytes.length);
          } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
          }
        }
        if (resolve) {
          resolveClass(loaded);
        }
        return loaded;
      }
    }
  }
}
