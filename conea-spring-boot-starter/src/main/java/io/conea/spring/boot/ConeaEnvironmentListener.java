package io.conea.spring.boot;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;

/**
 * Adds conea's defaults as the lowest-precedence property source, once the application's own
 * configuration is loaded and before logging starts: JSON console lines in the guide's schema
 * ({@code logging.structured.format.console}) and no banner, which would be the only non-JSON lines
 * on stdout. Any property source of the application overrides them; {@code
 * conea.logging.json=false} leaves both out.
 *
 * <p>A listener registered in {@code META-INF/spring.factories} rather than an {@code
 * EnvironmentPostProcessor}, whose interface moved package in Spring Boot 4.
 */
public class ConeaEnvironmentListener
    implements ApplicationListener<ApplicationEnvironmentPreparedEvent>, Ordered {

  /** The name of the property source of conea's defaults. */
  public static final String PROPERTY_SOURCE_NAME = "conea-defaults";

  /**
   * After Boot's {@code EnvironmentPostProcessorApplicationListener} (highest precedence + 10),
   * which loads {@code application.properties}, before its {@code LoggingApplicationListener}
   * (highest precedence + 20), which reads the logging properties.
   */
  public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 19;

  static final String FORMATTER = "io.conea.spring.boot.ConeaStructuredLogFormatter";

  @Override
  public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
    apply(event.getEnvironment());
  }

  static void apply(ConfigurableEnvironment environment) {
    if (environment.getPropertySources().contains(PROPERTY_SOURCE_NAME)) {
      return;
    }
    Map<String, Object> defaults = new LinkedHashMap<>();
    ClassLoader loader = ConeaEnvironmentListener.class.getClassLoader();
    boolean json =
        environment.getProperty("conea.logging.json", Boolean.class, true)
            && ClassUtils.isPresent("ch.qos.logback.classic.LoggerContext", loader)
            && ClassUtils.isPresent("io.conea.logging.ConeaJsonEncoder", loader)
            && ClassUtils.isPresent(
                "org.springframework.boot.logging.structured.StructuredLogFormatter", loader);
    if (json) {
      defaults.put("logging.structured.format.console", FORMATTER);
      defaults.put("spring.main.banner-mode", "off");
    }
    if (!defaults.isEmpty()) {
      environment
          .getPropertySources()
          .addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, defaults));
    }
  }

  @Override
  public int getOrder() {
    return ORDER;
  }
}
