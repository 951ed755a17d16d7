package io.conea.spring.boot;

import io.conea.metrics.ConeaMetrics;
import io.conea.spring.boot.webflux.ConeaWebFilter;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.servlet.ConeaTracingFilter;
import io.opentelemetry.api.OpenTelemetry;
import jakarta.servlet.DispatcherType;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * conea's HTTP instrumentation ({@link HttpServerTracing}) on the application's {@link
 * OpenTelemetry} (conea's SDK or the application's own) and the guide's meters, and its servlet
 * filter or WebFlux filter in front of every request.
 */
@AutoConfiguration(
    after = {ConeaMetricsAutoConfiguration.class, ConeaTracingSdkAutoConfiguration.class},
    afterName = {
      "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
      "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration"
    })
@ConditionalOnClass({HttpServerTracing.class, OpenTelemetry.class})
@ConditionalOnProperty(prefix = "conea.tracing", name = "enabled", matchIfMissing = true)
@ConditionalOnBean({ConeaMetrics.class, OpenTelemetry.class})
@EnableConfigurationProperties(ConeaProperties.class)
public class ConeaTracingAutoConfiguration {

  private static final boolean SDK_PRESENT =
      ClassUtils.isPresent(
          "io.conea.tracing.sdk.ConeaTracing",
          ConeaTracingAutoConfiguration.class.getClassLoader());

  /**
   * Instrumentation on conea's SDK, told whether its sampler reads span attributes, or on the
   * application's own {@link OpenTelemetry}; not tracing the scrape and Actuator's endpoints by
   * default.
   */
  @Bean
  @ConditionalOnMissingBean
  public HttpServerTracing httpServerTracing(
      OpenTelemetry openTelemetry,
      ConeaMetrics metrics,
      ConeaProperties properties,
      BeanFactory beanFactory) {
    HttpServerTracing.Builder builder =
        SDK_PRESENT ? SdkBuilder.of(beanFactory, openTelemetry, metrics) : null;
    if (builder == null) {
      builder = HttpServerTracing.builder(openTelemetry, metrics);
    }
    return builder
        .untracedPaths(untracedPaths(properties).toArray(new String[0]))
        .accessLog(properties.getLogging().isAccessLog())
        .errorLog(properties.getLogging().isErrorLog())
        .build();
  }

  static List<String> untracedPaths(ConeaProperties properties) {
    List<String> configured = properties.getTracing().getUntracedPaths();
    return configured != null
        ? configured
        : List.of(properties.getMetrics().getPath(), "/actuator");
  }

  /** The filter, first for every request, on the REQUEST dispatch. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass({jakarta.servlet.Filter.class, FilterRegistrationBean.class})
  static class ServletFilterConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "coneaTracingFilter")
    public FilterRegistrationBean<ConeaTracingFilter> coneaTracingFilter(HttpServerTracing http) {
      FilterRegistrationBean<ConeaTracingFilter> registration =
          new FilterRegistrationBean<>(ConeaTracingFilter.create(http));
      registration.setName("coneaTracingFilter");
      registration.addUrlPatterns("/*");
      registration.setDispatcherTypes(DispatcherType.REQUEST);
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
      return registration;
    }

    /**
     * Counts the requests that Tomcat or Jetty answer before the filter, such as those they reject
     * while parsing them, so that every request the server answers is counted once.
     */
    @Bean
    @ConditionalOnProperty(
        prefix = "conea.tracing",
        name = "count-rejected",
        havingValue = "true",
        matchIfMissing = true)
    ServerCountingCustomizer coneaServerCountingCustomizer(HttpServerTracing http) {
      return new ServerCountingCustomizer(http);
    }
  }

  /** The filter of Spring WebFlux applications, first in the chain. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass({WebFilter.class, Mono.class})
  static class WebFluxFilterConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public ConeaWebFilter coneaWebFilter(HttpServerTracing http) {
      return ConeaWebFilter.create(http);
    }

    /**
     * Counts the requests that Reactor Netty, or Spring's adapter over it, answers before the
     * filter, such as those it cannot decode, so that every request the server answers is counted
     * once.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(
        name = {
          "org.springframework.boot.web.server.WebServerFactoryCustomizer",
          "reactor.netty.http.server.HttpServer"
        })
    @ConditionalOnProperty(
        prefix = "conea.tracing",
        name = "count-rejected",
        havingValue = "true",
        matchIfMissing = true)
    static class ReactorNettyCountingConfiguration {

      @Bean
      ServerCountingCustomizer coneaServerCountingCustomizer(HttpServerTracing http) {
        return new ServerCountingCustomizer(http);
      }
    }
  }

  /**
   * Drops the container's second report of an exception that conea logged as the request's error
   * line, when Logback is the logging system.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "ch.qos.logback.classic.LoggerContext")
  @ConditionalOnProperty(
      prefix = "conea.logging",
      name = "error-log",
      havingValue = "true",
      matchIfMissing = true)
  static class ContainerErrorFilterConfiguration {

    @Bean
    @ConditionalOnMissingBean
    ContainerErrorFilter coneaContainerErrorFilter() {
      return new ContainerErrorFilter();
    }
  }

  /** Refers to conea-tracing-sdk, which may be absent: loaded only when it is present. */
  private static final class SdkBuilder {

    static HttpServerTracing.@Nullable Builder of(
        BeanFactory beanFactory, OpenTelemetry openTelemetry, ConeaMetrics metrics) {
      io.conea.tracing.sdk.ConeaTracing tracing =
          beanFactory.getBeanProvider(io.conea.tracing.sdk.ConeaTracing.class).getIfUnique();
      return tracing != null && tracing.openTelemetry() == openTelemetry
          ? tracing.httpServerTracing(metrics)
          : null;
    }
  }
}
