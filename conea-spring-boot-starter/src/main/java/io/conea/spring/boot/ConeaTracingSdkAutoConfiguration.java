package io.conea.spring.boot;

import io.conea.tracing.sdk.ConeaTracing;
import io.opentelemetry.api.OpenTelemetry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * conea's OpenTelemetry SDK ({@link ConeaTracing}: the guide's 10% parent-based sampler, OTLP
 * export, {@code OTEL_*} configuration) when the application has no {@link OpenTelemetry} bean; an
 * application that has one keeps it and never gets a second SDK.
 *
 * <p>Ordered before Spring Boot 3.5's own OpenTelemetry auto-configuration, which would otherwise
 * start a bare SDK merely because conea-tracing-sdk puts the SDK on the class path, and after Boot
 * 4's, which runs only when the application chose Boot's SDK ({@code
 * spring-boot-starter-opentelemetry}); that one is then used.
 */
@AutoConfiguration(
    beforeName =
        "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
    afterName =
        "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration")
@ConditionalOnClass({ConeaTracing.class, OpenTelemetry.class})
@ConditionalOnProperty(prefix = "conea.tracing", name = "enabled", matchIfMissing = true)
@ConditionalOnMissingBean(OpenTelemetry.class)
@EnableConfigurationProperties(ConeaProperties.class)
public class ConeaTracingSdkAutoConfiguration {

  /**
   * The SDK, named {@code OTEL_SERVICE_NAME} (or {@code otel.service.name}) else {@code
   * spring.application.name}; closing the context flushes its spans.
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public ConeaTracing coneaTracing(Environment environment, ConeaProperties properties) {
    return ConeaTracing.builder(ServiceName.of(environment))
        .config(properties.getTracing().getConfig())
        .build();
  }

  /** The SDK as the application's {@link OpenTelemetry}; {@link ConeaTracing} shuts it down. */
  @Bean(destroyMethod = "")
  public OpenTelemetry openTelemetry(ConeaTracing tracing) {
    return tracing.openTelemetry();
  }
}
