package io.conea.spring.boot;

import io.conea.ai.AiCalls;
import io.conea.ai.AiModelCallAspect;
import io.conea.ai.AiPricing;
import io.conea.metrics.ConeaMetrics;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.Resource;

/**
 * The AI call recorder ({@link AiCalls}, injectable, e.g. for {@link AiCalls#costUsd}) on the
 * guide's AI meters and the application's {@link OpenTelemetry}, priced with {@link
 * AiPricing#defaults()} and {@code conea.ai.pricing-file} on top; and, when AspectJ's weaver and
 * Spring AOP are on the class path, the {@link AiModelCallAspect} that records {@code @AiModelCall}
 * methods of Spring beans.
 */
@AutoConfiguration(
    after = {ConeaMetricsAutoConfiguration.class, ConeaTracingSdkAutoConfiguration.class})
@ConditionalOnClass({AiCalls.class, ConeaMetrics.class})
@ConditionalOnProperty(prefix = "conea.ai", name = "enabled", matchIfMissing = true)
@ConditionalOnBean(ConeaMetrics.class)
@EnableConfigurationProperties(ConeaProperties.class)
public class ConeaAiAutoConfiguration {

  /** The built-in prices, with {@code conea.ai.pricing-file} on top. */
  @Bean
  @ConditionalOnMissingBean
  public AiPricing coneaAiPricing(ConeaProperties properties) {
    Resource file = properties.getAi().getPricingFile();
    if (file == null) {
      return AiPricing.defaults();
    }
    AiPricing.Builder builder = AiPricing.builder().addDefaults();
    try (Reader reader = new InputStreamReader(file.getInputStream(), StandardCharsets.UTF_8)) {
      builder.load(reader);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read conea.ai.pricing-file " + file, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Invalid conea.ai.pricing-file " + file + ": " + e.getMessage(), e);
    }
    return builder.build();
  }

  /** Records calls on the guide's AI meters, with a span when there is an OpenTelemetry. */
  @Bean
  @ConditionalOnMissingBean
  public AiCalls aiCalls(
      ConeaMetrics metrics, AiPricing pricing, ObjectProvider<OpenTelemetry> openTelemetry) {
    AiCalls.Builder builder = AiCalls.builder(metrics).pricing(pricing);
    OpenTelemetry otel = openTelemetry.getIfUnique();
    if (otel != null) {
      builder.openTelemetry(otel);
    }
    return builder.build();
  }

  /** {@code @AiModelCall} on Spring beans, through Spring AOP's AspectJ auto-proxying. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.aspectj.weaver.Advice",
        "org.springframework.aop.aspectj.annotation.AnnotationAwareAspectJAutoProxyCreator"
      })
  static class AspectConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public AiModelCallAspect aiModelCallAspect(AiCalls aiCalls) {
      return new AiModelCallAspect(aiCalls);
    }
  }
}
