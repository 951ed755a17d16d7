package io.conea.spring.boot;

import static java.nio.charset.StandardCharsets.UTF_8;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.conea.logging.ConeaJsonEncoder;
import java.nio.charset.Charset;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.springframework.boot.logging.structured.StructuredLogFormatter;
import org.springframework.core.env.Environment;

/**
 * Spring Boot's structured console logging in the monitoring guide's schema: one JSON object per
 * line, written by {@link ConeaJsonEncoder}. conea's starter makes it the default ({@code
 * logging.structured.format.console=io.conea.spring.boot.ConeaStructuredLogFormatter}); {@code
 * conea.logging.json=false} turns that off.
 *
 * <p>The {@code service} field is {@code otel.service.name} ({@code OTEL_SERVICE_NAME}) else {@code
 * spring.application.name}, the name that conea's spans carry too.
 */
public class ConeaStructuredLogFormatter implements StructuredLogFormatter<ILoggingEvent> {

  private final ConeaJsonEncoder encoder;

  /** Spring Boot creates the formatter with the application's environment (Boot 3.5 and 4.0). */
  public ConeaStructuredLogFormatter(Environment environment) {
    this(ServiceName.configured(environment) == null ? null : ServiceName.of(environment));
  }

  ConeaStructuredLogFormatter(@org.jspecify.annotations.Nullable String service) {
    encoder = new ConeaJsonEncoder();
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    // Where the encoder reports a configuration problem: Logback's status, as for logback.xml.
    encoder.setContext(
        factory instanceof LoggerContext ? (LoggerContext) factory : new LoggerContext());
    if (service != null) {
      encoder.setService(service);
    }
    encoder.start();
  }

  @Override
  public String format(ILoggingEvent event) {
    return new String(encoder.encode(event), UTF_8);
  }

  @Override
  public byte[] formatAsBytes(ILoggingEvent event, Charset charset) {
    byte[] line = encoder.encode(event);
    return UTF_8.equals(charset) ? line : new String(line, UTF_8).getBytes(charset);
  }
}
