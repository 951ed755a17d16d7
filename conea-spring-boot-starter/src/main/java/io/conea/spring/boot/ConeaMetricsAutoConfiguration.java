package io.conea.spring.boot;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.metrics.servlet.MetricsServlet;
import io.conea.spring.boot.webflux.ScrapeRoute;
import io.conea.tracing.OpenTelemetryExemplars;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.tracer.common.SpanContext;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The guide's meters on Spring Boot's {@link PrometheusMeterRegistry} when Actuator made one, else
 * on a registry of conea's own (with the JVM meters), and the scrape at {@code conea.metrics.path}.
 *
 * <p>On Boot's registry conea registers its meters and nothing else: Boot binds the JVM meters, and
 * both {@code /actuator/prometheus} and conea's path serve the same registry.
 */
@AutoConfiguration(
    afterName = {
      // Spring Boot 3.5
      "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.export.prometheus.PrometheusMetricsExportAutoConfiguration",
      // Spring Boot 4.0
      "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration"
    })
@ConditionalOnClass({ConeaMetrics.class, PrometheusMeterRegistry.class})
@ConditionalOnProperty(prefix = "conea.metrics", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(ConeaProperties.class)
public class ConeaMetricsAutoConfiguration {

  /**
   * Boot's Prometheus registry, scraped as found, when there is one; else a registry of conea's
   * own, with the JVM and process meters and exemplars of the current span.
   */
  @Bean
  @ConditionalOnMissingBean
  public PrometheusMetrics coneaPrometheusMetrics(
      ObjectProvider<PrometheusMeterRegistry> bootRegistry, ObjectProvider<SpanContext> exemplars) {
    PrometheusMeterRegistry registry = bootRegistry.getIfUnique();
    if (registry != null) {
      return PrometheusMetrics.of(registry);
    }
    PrometheusMetrics.Builder builder = PrometheusMetrics.builder();
    SpanContext spanContext = exemplars.getIfUnique();
    if (spanContext != null) {
      builder.exemplars(spanContext);
    }
    return builder.build();
  }

  /** The guide's meters, on the registry that {@link PrometheusMetrics} scrapes. */
  @Bean
  @ConditionalOnMissingBean
  public ConeaMetrics coneaMetrics(PrometheusMetrics prometheus, ConeaProperties properties) {
    ConeaProperties.Metrics settings = properties.getMetrics();
    return ConeaMetrics.builder(prometheus.registry())
        .maxEndpoints(settings.getMaxEndpoints())
        .routes(settings.getRoutes().toArray(new String[0]))
        .build();
  }

  /**
   * Exemplars (trace and span id of the current OpenTelemetry span) for Boot's Prometheus registry,
   * which takes a {@link SpanContext} bean, and for conea's own.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({OpenTelemetryExemplars.class, io.opentelemetry.api.trace.Span.class})
  static class ExemplarsConfiguration {

    @Bean
    @ConditionalOnMissingBean(SpanContext.class)
    public OpenTelemetryExemplars coneaExemplars() {
      return OpenTelemetryExemplars.create();
    }
  }

  /** The scrape at {@code conea.metrics.path}, in WebFlux applications. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass({RouterFunction.class, Mono.class})
  @ConditionalOnProperty(
      prefix = "conea.metrics",
      name = "scrape-enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class ScrapeRouteConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "coneaMetricsRoute")
    public RouterFunction<ServerResponse> coneaMetricsRoute(
        PrometheusMetrics prometheus, ConeaProperties properties) {
      return ScrapeRoute.of(properties.getMetrics().getPath(), prometheus);
    }
  }

  /** The scrape at {@code conea.metrics.path}, in servlet applications. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass({jakarta.servlet.Servlet.class, ServletRegistrationBean.class})
  @ConditionalOnProperty(
      prefix = "conea.metrics",
      name = "scrape-enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class ScrapeServletConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "coneaMetricsServlet")
    public ServletRegistrationBean<MetricsServlet> coneaMetricsServlet(
        PrometheusMetrics prometheus, ConeaProperties properties) {
      ServletRegistrationBean<MetricsServlet> registration =
          new ServletRegistrationBean<>(
              MetricsServlet.create(prometheus), properties.getMetrics().getPath());
      registration.setName("coneaMetricsServlet");
      return registration;
    }
  }
}
