package com.example.host;

import io.conea.metrics.ConeaMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.sdk.ConeaTracing;
import io.conea.tracing.servlet.ConeaTracingFilter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * conea on Boot's own meter registry (the Prometheus one that actuator scrapes), with its SDK and
 * its servlet filter in front of everything.
 */
@Configuration(proxyBeanMethods = false)
public class ConeaConfiguration {

  @Bean
  public ConeaMetrics coneaMetrics(MeterRegistry meterRegistry) {
    return ConeaMetrics.create(meterRegistry);
  }

  /** No collector here: spans are not exported. */
  @Bean(destroyMethod = "close")
  public ConeaTracing coneaTracing() {
    return ConeaTracing.builder("host-app").config(Map.of("otel.traces.exporter", "none")).build();
  }

  @Bean
  public HttpServerTracing httpServerTracing(ConeaTracing tracing, ConeaMetrics metrics) {
    return tracing.httpServerTracing(metrics).build();
  }

  @Bean
  public FilterRegistrationBean<ConeaTracingFilter> coneaTracingFilter(HttpServerTracing http) {
    FilterRegistrationBean<ConeaTracingFilter> registration =
        new FilterRegistrationBean<>(ConeaTracingFilter.create(http));
    registration.addUrlPatterns("/*");
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
    return registration;
  }
}
