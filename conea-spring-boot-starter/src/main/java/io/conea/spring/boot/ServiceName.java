package io.conea.spring.boot;

import org.jspecify.annotations.Nullable;
import org.springframework.core.env.Environment;

/** The one service name that spans and log lines carry. */
final class ServiceName {

  /** What Spring Boot and OpenTelemetry call an application that names nothing. */
  static final String DEFAULT = "application";

  private ServiceName() {}

  /**
   * {@code otel.service.name} (which the environment variable {@code OTEL_SERVICE_NAME} sets, as
   * for OpenTelemetry) else {@code spring.application.name}, else {@value #DEFAULT}.
   */
  static String of(Environment environment) {
    String name = configured(environment);
    return name != null ? name : DEFAULT;
  }

  /** As {@link #of} but null when nothing names the service. */
  static @Nullable String configured(Environment environment) {
    String name = environment.getProperty("otel.service.name");
    if (name == null || name.isBlank()) {
      name = environment.getProperty("spring.application.name");
    }
    return name == null || name.isBlank() ? null : name.trim();
  }
}
