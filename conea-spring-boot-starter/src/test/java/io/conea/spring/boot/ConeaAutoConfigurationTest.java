package io.conea.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.ai.AiCalls;
import io.conea.ai.AiModelCallAspect;
import io.conea.ai.AiPricing;
import io.conea.ai.AiUsage;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.servlet.MetricsServlet;
import io.conea.spring.boot.webflux.ConeaWebFilter;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.sdk.ConeaTracing;
import io.conea.tracing.servlet.ConeaTracingFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.prometheus.metrics.tracer.common.SpanContext;
import jakarta.servlet.DispatcherType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** Every condition and property of the auto-configuration, on Spring Boot's context runners. */
class ConeaAutoConfigurationTest {

  private static final AutoConfigurations CONEA =
      AutoConfigurations.of(
          ConeaMetricsAutoConfiguration.class,
          ConeaTracingSdkAutoConfiguration.class,
          ConeaTracingAutoConfiguration.class,
          ConeaAiAutoConfiguration.class);

  /**
   * Sampled spans and an exporter that needs no collector: an SDK with no span processor at all
   * (exporter none) starts only no-op spans since OpenTelemetry 1.6x.
   */
  private static final String[] SPANS_TO_THE_LOG = {
    "conea.tracing.config[otel.traces.sampler]=always_on",
    "conea.tracing.config[otel.traces.exporter]=logging"
  };

  /** No collector in tests: the SDK exports nothing. */
  private static final String NO_EXPORT = "conea.tracing.config[otel.traces.exporter]=none";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(CONEA)
          .withPropertyValues(NO_EXPORT, "spring.application.name=conea-api");

  private final ReactiveWebApplicationContextRunner reactive =
      new ReactiveWebApplicationContextRunner()
          .withConfiguration(CONEA)
          .withPropertyValues(NO_EXPORT, "spring.application.name=conea-api");

  private final WebApplicationContextRunner web =
      new WebApplicationContextRunner()
          .withConfiguration(CONEA)
          .withPropertyValues(NO_EXPORT, "spring.application.name=conea-api");

  // --- metrics ---------------------------------------------------------------------------------

  @Test
  void withoutBootsRegistryConeaHasItsOwnWithTheJvmMeters() {
    runner.run(
        context -> {
          assertThat(context)
              .hasSingleBean(PrometheusMetrics.class)
              .hasSingleBean(ConeaMetrics.class);
          PrometheusMetrics prometheus = context.getBean(PrometheusMetrics.class);
          assertThat(context.getBean(ConeaMetrics.class).registry())
              .isSameAs(prometheus.registry());
          assertThat(prometheus.registry().find("jvm.memory.used").gauges()).isNotEmpty();
          assertThat(context).doesNotHaveBean(PrometheusMeterRegistry.class);
        });
  }

  @Test
  void onBootsRegistryConeaRegistersItsMetersAndBindsNothing() {
    runner
        .withUserConfiguration(BootRegistry.class)
        .run(
            context -> {
              PrometheusMeterRegistry boot = context.getBean(PrometheusMeterRegistry.class);
              assertThat(context.getBean(PrometheusMetrics.class).registry()).isSameAs(boot);
              assertThat(context.getBean(ConeaMetrics.class).registry()).isSameAs(boot);
              // Boot binds the JVM meters; conea must not bind them a second time.
              assertThat(boot.find("jvm.memory.used").gauges()).isEmpty();
              context
                  .getBean(ConeaMetrics.class)
                  .http()
                  .record("GET", "/api/v1/users/{id}", "/api/v1/users/1", 200, 1_000_000);
              assertThat(boot.scrape())
                  .contains(
                      "http_requests_total{endpoint=\"/api/v1/users/{id}\",method=\"GET\",status=\"200\"} 1");
            });
    // The context leaves Boot's registry open: it is Boot's to close.
    runner
        .withUserConfiguration(BootRegistry.class)
        .run(
            context -> {
              PrometheusMeterRegistry boot = context.getBean(PrometheusMeterRegistry.class);
              context.getBean(PrometheusMetrics.class).close();
              assertThat(boot.isClosed()).isFalse();
            });
  }

  @Test
  void exemplarsComeFromTheCurrentOpenTelemetrySpan() {
    runner.run(
        context ->
            assertThat(context.getBean(SpanContext.class))
                .isInstanceOf(OpenTelemetryExemplars.class));
    runner
        .withUserConfiguration(OwnSpanContext.class)
        .run(
            context ->
                assertThat(context.getBean(SpanContext.class))
                    .isSameAs(context.getBean("ownSpanContext")));
  }

  @Test
  void routesAndMaxEndpointsConfigureTheMeters() {
    runner
        .withPropertyValues("conea.metrics.max-endpoints=1", "conea.metrics.routes=/a/{id},/b/{id}")
        .run(
            context -> {
              ConeaMetrics metrics = context.getBean(ConeaMetrics.class);
              metrics.http().record("GET", null, "/c", 200, 1);
              metrics.http().record("GET", null, "/d", 200, 1);
              metrics.http().record("GET", "/b/{id}", "/b/1", 200, 1);
              String scrape = context.getBean(PrometheusMetrics.class).registry().scrape();
              assertThat(scrape).contains("endpoint=\"/b/{id}\"").contains("endpoint=\"_OTHER\"");
            });
  }

  @Test
  void metricsCanBeTurnedOffAndTracingGoesWithThem() {
    web.withPropertyValues("conea.metrics.enabled=false")
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean(ConeaMetrics.class)
                    .doesNotHaveBean(PrometheusMetrics.class)
                    .doesNotHaveBean(HttpServerTracing.class)
                    .doesNotHaveBean("coneaMetricsServlet")
                    .doesNotHaveBean("coneaTracingFilter")
                    .doesNotHaveBean(AiCalls.class));
  }

  @Test
  void applicationsMetersBeansWin() {
    runner
        .withUserConfiguration(OwnMeters.class)
        .run(
            context -> {
              assertThat(context)
                  .hasSingleBean(ConeaMetrics.class)
                  .hasSingleBean(PrometheusMetrics.class);
              assertThat(context.getBean(ConeaMetrics.class))
                  .isSameAs(context.getBean("ownConeaMetrics"));
            });
  }

  @Test
  void theScrapeIsServedAtTheMetricsPath() {
    web.run(
        context -> {
          ServletRegistrationBean<?> servlet =
              context.getBean("coneaMetricsServlet", ServletRegistrationBean.class);
          assertThat(servlet.getServlet()).isInstanceOf(MetricsServlet.class);
          assertThat(servlet.getUrlMappings()).containsExactly("/metrics");
        });
    web.withPropertyValues("conea.metrics.path=/prometheus")
        .run(context -> assertThat(servletMappings(context)).containsExactly("/prometheus"));
    web.withPropertyValues("conea.metrics.scrape-enabled=false")
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean("coneaMetricsServlet")
                    .hasSingleBean(ConeaMetrics.class));
    runner.run(context -> assertThat(context).doesNotHaveBean("coneaMetricsServlet"));
    web.withClassLoader(new FilteredClassLoader(jakarta.servlet.Servlet.class))
        .run(context -> assertThat(context).doesNotHaveBean("coneaMetricsServlet"));
  }

  // --- tracing ---------------------------------------------------------------------------------

  @Test
  void withoutAnOpenTelemetryBeanConeaStartsItsSdk() {
    web.run(
        context -> {
          assertThat(context)
              .hasSingleBean(ConeaTracing.class)
              .hasSingleBean(OpenTelemetry.class)
              .hasSingleBean(HttpServerTracing.class);
          assertThat(context.getBean(OpenTelemetry.class))
              .isSameAs(context.getBean(ConeaTracing.class).openTelemetry());
          FilterRegistrationBean<?> filter =
              context.getBean("coneaTracingFilter", FilterRegistrationBean.class);
          assertThat(filter.getFilter()).isInstanceOf(ConeaTracingFilter.class);
          assertThat(filter.getUrlPatterns()).containsExactly("/*");
          assertThat(filter.getOrder()).isEqualTo(Ordered.HIGHEST_PRECEDENCE);
          assertThat(filter.determineDispatcherTypes()).containsExactly(DispatcherType.REQUEST);
        });
  }

  @Test
  void theApplicationsOpenTelemetryIsUsedAndNoSecondSdkStarts() {
    web.withUserConfiguration(OwnOpenTelemetry.class)
        .run(
            context -> {
              assertThat(context)
                  .hasSingleBean(OpenTelemetry.class)
                  .doesNotHaveBean(ConeaTracing.class);
              assertThat(context.getBean(OpenTelemetry.class))
                  .isSameAs(context.getBean("ownOpenTelemetry"));
              assertThat(context)
                  .hasSingleBean(HttpServerTracing.class)
                  .hasBean("coneaTracingFilter");
              // The filter's spans come from the application's SDK.
              List<Boolean> traced = tracedPaths(context, "/api/v1/users/1");
              assertThat(traced).containsExactly(true);
            });
  }

  @Test
  void theApplicationsConeaTracingIsUsedAndNoSecondSdkStarts() {
    web.withUserConfiguration(OwnConeaTracing.class)
        .run(
            context -> {
              assertThat(context)
                  .hasSingleBean(ConeaTracing.class)
                  .hasSingleBean(OpenTelemetry.class);
              assertThat(context.getBean(OpenTelemetry.class))
                  .isSameAs(context.getBean(ConeaTracing.class).openTelemetry());
            });
  }

  @Test
  void theScrapeAndActuatorAreCountedButNotTraced() {
    web.withPropertyValues(SPANS_TO_THE_LOG)
        .run(
            context ->
                assertThat(
                        tracedPaths(
                            context,
                            "/api/v1/users/1",
                            "/metrics",
                            "/actuator/health",
                            "/actuators"))
                    .containsExactly(true, false, false, true));
    web.withPropertyValues(SPANS_TO_THE_LOG)
        .withPropertyValues("conea.metrics.path=/prom")
        .run(
            context ->
                assertThat(tracedPaths(context, "/prom", "/metrics", "/actuator"))
                    .containsExactly(false, true, false));
    web.withPropertyValues(SPANS_TO_THE_LOG)
        .withPropertyValues("conea.tracing.untraced-paths=/health")
        .run(
            context ->
                assertThat(tracedPaths(context, "/health/live", "/metrics", "/actuator"))
                    .containsExactly(false, true, true));
  }

  @Test
  void theServiceNameIsSpringApplicationName() {
    web.withPropertyValues("conea.tracing.config[otel.traces.sampler]=always_on")
        .run(
            context -> {
              OpenTelemetrySdk sdk = (OpenTelemetrySdk) context.getBean(OpenTelemetry.class);
              assertThat(sdk.getSdkTracerProvider().toString())
                  .contains("service.name=\"conea-api\"");
            });
    web.withPropertyValues("otel.service.name=from-otel")
        .run(
            context -> {
              OpenTelemetrySdk sdk = (OpenTelemetrySdk) context.getBean(OpenTelemetry.class);
              assertThat(sdk.getSdkTracerProvider().toString())
                  .contains("service.name=\"from-otel\"");
            });
  }

  @Test
  void tracingCanBeTurnedOff() {
    web.withPropertyValues("conea.tracing.enabled=false")
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean(ConeaTracing.class)
                    .doesNotHaveBean(OpenTelemetry.class)
                    .doesNotHaveBean(HttpServerTracing.class)
                    .doesNotHaveBean("coneaTracingFilter")
                    .hasSingleBean(ConeaMetrics.class)
                    .hasBean("coneaMetricsServlet"));
  }

  @Test
  void withoutTheSdkArtifactTracingNeedsTheApplicationsOpenTelemetry() {
    FilteredClassLoader noSdk = new FilteredClassLoader("io.conea.tracing.sdk.");
    web.withClassLoader(noSdk)
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean(OpenTelemetry.class)
                    .doesNotHaveBean(HttpServerTracing.class));
    web.withClassLoader(noSdk)
        .withUserConfiguration(OwnOpenTelemetry.class)
        .run(context -> assertThat(context).hasSingleBean(HttpServerTracing.class));
  }

  @Test
  void theFilterIsNotRegisteredOutsideServletApplications() {
    runner.run(
        context ->
            assertThat(context)
                .hasSingleBean(HttpServerTracing.class)
                .doesNotHaveBean("coneaTracingFilter"));
  }

  @Test
  void webFluxApplicationsGetTheWebFilterAndTheScrapeRoute() {
    reactive.run(
        context ->
            assertThat(context)
                .hasSingleBean(ConeaWebFilter.class)
                .hasBean("coneaMetricsRoute")
                .doesNotHaveBean("coneaTracingFilter")
                .doesNotHaveBean("coneaMetricsServlet"));
    reactive
        .withPropertyValues("conea.metrics.scrape-enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean("coneaMetricsRoute"));
    reactive
        .withPropertyValues("conea.tracing.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(ConeaWebFilter.class));
    web.run(context -> assertThat(context).doesNotHaveBean(ConeaWebFilter.class));
    runner.run(
        context ->
            assertThat(context)
                .doesNotHaveBean(ConeaWebFilter.class)
                .doesNotHaveBean("coneaMetricsRoute"));
  }

  @Test
  void requestsTheServerRejectsAreCountedUnlessTurnedOff() {
    web.run(context -> assertThat(context).hasSingleBean(ServerCountingCustomizer.class));
    web.withPropertyValues("conea.tracing.count-rejected=false")
        .run(context -> assertThat(context).doesNotHaveBean(ServerCountingCustomizer.class));
    reactive.run(context -> assertThat(context).hasSingleBean(ServerCountingCustomizer.class));
    reactive
        .withPropertyValues("conea.tracing.count-rejected=false")
        .run(context -> assertThat(context).doesNotHaveBean(ServerCountingCustomizer.class));
  }

  @Test
  void theContainersSecondReportOfAnErrorIsDroppedWhileTheContextRuns() {
    ch.qos.logback.classic.LoggerContext logback =
        (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    web.run(
        context -> {
          assertThat(context).hasSingleBean(ContainerErrorFilter.class);
          assertThat(logback.getTurboFilterList())
              .contains(context.getBean(ContainerErrorFilter.class));
        });
    assertThat(logback.getTurboFilterList()).noneMatch(ContainerErrorFilter.class::isInstance);
    web.withPropertyValues("conea.logging.error-log=false")
        .run(context -> assertThat(context).doesNotHaveBean(ContainerErrorFilter.class));
    web.withClassLoader(new FilteredClassLoader(ch.qos.logback.classic.LoggerContext.class))
        .run(context -> assertThat(context).doesNotHaveBean(ContainerErrorFilter.class));
  }

  @Test
  void anUnhandledExceptionWritesOneErrorLineUnlessTurnedOff() {
    assertThat(errorLines(web)).isOne();
    assertThat(errorLines(web.withPropertyValues("conea.logging.error-log=false"))).isZero();
  }

  private static int errorLines(WebApplicationContextRunner runner) {
    return (int)
        accessLoggerEvents(
                runner,
                context -> {
                  ConeaTracingFilter filter =
                      (ConeaTracingFilter)
                          context
                              .getBean("coneaTracingFilter", FilterRegistrationBean.class)
                              .getFilter();
                  try {
                    filter.doFilter(
                        new MockHttpServletRequest("GET", "/api/v1/boom"),
                        new MockHttpServletResponse(),
                        (req, res) -> {
                          throw new IllegalStateException("boom");
                        });
                  } catch (IllegalStateException expected) {
                    // rethrown unchanged, as the container must see it
                  }
                })
            .stream()
            .filter(line -> line.getLevel() == ch.qos.logback.classic.Level.ERROR)
            .count();
  }

  /** The events of conea's request logger while {@code action} runs in the runner's context. */
  private static List<ch.qos.logback.classic.spi.ILoggingEvent> accessLoggerEvents(
      WebApplicationContextRunner runner,
      org.springframework.boot.test.context.runner.ContextConsumer<
              org.springframework.boot.test.context.assertj.AssertableWebApplicationContext>
          action) {
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(HttpServerTracing.ACCESS_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    access.addAppender(lines);
    try {
      runner.run(action);
      return lines.list;
    } finally {
      access.detachAppender(lines);
    }
  }

  @Test
  void theAccessLogIsOffUnlessAskedFor() {
    assertThat(accessLogLines(web)).isZero();
    assertThat(accessLogLines(web.withPropertyValues("conea.logging.access-log=true"))).isOne();
  }

  private static int accessLogLines(WebApplicationContextRunner runner) {
    return accessLoggerEvents(runner, context -> tracedPaths(context, "/api/v1/users/1")).size();
  }

  @Test
  void untracedPathsDefaultToTheScrapeAndActuator() {
    ConeaProperties properties = new ConeaProperties();
    assertThat(ConeaTracingAutoConfiguration.untracedPaths(properties))
        .containsExactly("/metrics", "/actuator");
    properties.getMetrics().setPath("/prom");
    assertThat(ConeaTracingAutoConfiguration.untracedPaths(properties))
        .containsExactly("/prom", "/actuator");
    properties.getTracing().setUntracedPaths(List.of());
    assertThat(ConeaTracingAutoConfiguration.untracedPaths(properties)).isEmpty();
  }

  // --- AI --------------------------------------------------------------------------------------

  @Test
  void aiCallsAndTheAspectArePricedWithTheDefaults() {
    runner.run(
        context -> {
          assertThat(context).hasSingleBean(AiCalls.class).hasSingleBean(AiModelCallAspect.class);
          AiCalls calls = context.getBean(AiCalls.class);
          assertThat(calls.costUsd("gpt-4", AiUsage.of(1000, 250))).hasValue(0.045);
        });
  }

  @Test
  void thePricingFileAddsToTheDefaults() {
    runner
        .withPropertyValues("conea.ai.pricing-file=classpath:ai-prices.properties")
        .run(
            context -> {
              AiPricing pricing = context.getBean(AiCalls.class).pricing();
              assertThat(pricing.price("custom-model"))
                  .isEqualTo(new AiPricing.Price(0.001, 0.002));
              assertThat(pricing.price("gpt-4")).isNotNull();
            });
    runner
        .withPropertyValues("conea.ai.pricing-file=classpath:bad-ai-prices.properties")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .hasStackTraceContaining("conea.ai.pricing-file")
                    .hasStackTraceContaining("custom-model.input"));
    runner
        .withPropertyValues("conea.ai.pricing-file=classpath:no-such-file.properties")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .hasStackTraceContaining("Cannot read conea.ai.pricing-file"));
  }

  @Test
  void withoutAspectJTheRecorderStaysAndTheAspectGoes() {
    runner
        .withClassLoader(new FilteredClassLoader("org.aspectj.weaver."))
        .run(
            context ->
                assertThat(context)
                    .hasSingleBean(AiCalls.class)
                    .doesNotHaveBean(AiModelCallAspect.class));
    runner
        .withPropertyValues("conea.ai.enabled=false")
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean(AiCalls.class)
                    .doesNotHaveBean(AiModelCallAspect.class));
    runner
        .withClassLoader(new FilteredClassLoader(AiCalls.class))
        .run(
            context ->
                assertThat(context).doesNotHaveBean("aiCalls").hasSingleBean(ConeaMetrics.class));
  }

  // ---------------------------------------------------------------------------------------------

  private static java.util.Collection<String> servletMappings(
      org.springframework.context.ApplicationContext context) {
    ServletRegistrationBean<?> servlet =
        context.getBean("coneaMetricsServlet", ServletRegistrationBean.class);
    return servlet.getUrlMappings();
  }

  /** Sends each path through the registered filter; true where the chain saw a valid span. */
  private static List<Boolean> tracedPaths(
      org.springframework.context.ApplicationContext context, String... paths) throws Exception {
    ConeaTracingFilter filter =
        (ConeaTracingFilter)
            context.getBean("coneaTracingFilter", FilterRegistrationBean.class).getFilter();
    List<Boolean> traced = new ArrayList<>();
    for (String path : paths) {
      MockHttpServletRequest request = new MockHttpServletRequest("GET", path);
      filter.doFilter(
          request,
          new MockHttpServletResponse(),
          (req, res) -> traced.add(Span.current().getSpanContext().isValid()));
    }
    return traced;
  }

  @Configuration(proxyBeanMethods = false)
  static class BootRegistry {
    @Bean
    PrometheusMeterRegistry prometheusMeterRegistry() {
      return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnSpanContext {
    @Bean
    SpanContext ownSpanContext() {
      return OpenTelemetryExemplars.create();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnMeters {
    @Bean
    PrometheusMetrics ownPrometheusMetrics() {
      return PrometheusMetrics.builder().jvmMetrics(false).build();
    }

    @Bean
    ConeaMetrics ownConeaMetrics(PrometheusMetrics prometheus) {
      return ConeaMetrics.create(prometheus.registry());
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnOpenTelemetry {
    @Bean(destroyMethod = "close")
    OpenTelemetrySdk ownOpenTelemetry() {
      return OpenTelemetrySdk.builder()
          .setTracerProvider(
              io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
                  .addSpanProcessor(
                      io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(
                          io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create()))
                  .build())
          .build();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnConeaTracing {
    @Bean(destroyMethod = "close")
    ConeaTracing ownConeaTracing() {
      return ConeaTracing.builder("own").config(Map.of("otel.traces.exporter", "none")).build();
    }
  }
}
