package io.conea.ai;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.Problems;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.concurrent.ConcurrentHashMap;
import org.aspectj.lang.ProceedingJoinPoint;
import org.aspectj.lang.annotation.Around;
import org.aspectj.lang.annotation.Aspect;
import org.aspectj.lang.reflect.MethodSignature;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records every call of an {@link AiModelCall} method through an {@link AiCalls} recorder, for
 * Spring AOP and for AspectJ weaving.
 *
 * <p>Spring: declare it as a bean next to {@code @EnableAspectJAutoProxy} (Spring Boot's AOP
 * starter enables that), with aspectjweaver on the class path:
 *
 * <pre>{@code
 * @Bean
 * AiModelCallAspect aiModelCallAspect(ConeaMetrics metrics, OpenTelemetry openTelemetry) {
 *   return new AiModelCallAspect(AiCalls.create(metrics, AiPricing.defaults(), openTelemetry));
 * }
 * }</pre>
 *
 * Spring's proxies see only public methods called from outside the bean.
 *
 * <p>AspectJ compile-time (or load-time) weaving: name conea-ai as an aspect library of the
 * aspectj-maven-plugin, add aspectjrt, and hand the recorder to the aspect instance that AspectJ
 * creates itself, once at start-up:
 *
 * <pre>{@code
 * AiModelCallAspect.install(AiCalls.create(metrics, AiPricing.defaults(), openTelemetry));
 * }</pre>
 *
 * Woven methods called before that run unrecorded, with one warning. Weaving also covers non-public
 * methods and calls from inside the same object.
 *
 * <p>The method's result and exception pass through unchanged; see {@link AiCalls} for what is
 * recorded and {@link AiModelCall} for where provider and model come from.
 */
@Aspect
public final class AiModelCallAspect {

  private static final Logger logger = LoggerFactory.getLogger(AiModelCallAspect.class);

  /** Problems of woven methods that run before {@link #install}: there is no recorder yet. */
  private static final Problems problems = new Problems();

  private static volatile @Nullable AiCalls installed;

  private final @Nullable AiCalls recorder;
  private final ConcurrentHashMap<Method, Site> sites = new ConcurrentHashMap<>();

  /** Returns an aspect that records through {@code recorder}: the one to use with Spring. */
  public AiModelCallAspect(AiCalls recorder) {
    Compatibility.require(AiModelCallAspect.class, Compatibility.ASPECTJ);
    this.recorder = requireNonNull(recorder, "recorder");
  }

  /**
   * Returns an aspect that records through the recorder given to {@link #install}. AspectJ weaving
   * creates its aspect instance with this constructor; code should use the other one.
   */
  public AiModelCallAspect() {
    this.recorder = null;
  }

  /**
   * Sets the recorder of aspect instances made without one, which are those that AspectJ weaving
   * creates. Replaces an earlier recorder.
   */
  public static void install(AiCalls recorder) {
    Compatibility.require(AiModelCallAspect.class, Compatibility.ASPECTJ);
    installed = requireNonNull(recorder, "recorder");
  }

  /** Records a call of a method annotated {@link AiModelCall}. */
  @Around("execution(@io.conea.ai.AiModelCall * *(..))")
  public @Nullable Object recordAnnotatedMethod(ProceedingJoinPoint joinPoint) throws Throwable {
    return record(joinPoint);
  }

  /** Records a call of a public method of a type annotated {@link AiModelCall}. */
  @Around(
      "@within(io.conea.ai.AiModelCall)"
          + " && !@annotation(io.conea.ai.AiModelCall)"
          + " && execution(public * *(..))")
  public @Nullable Object recordMethodOfAnnotatedType(ProceedingJoinPoint joinPoint)
      throws Throwable {
    return record(joinPoint);
  }

  private @Nullable Object record(ProceedingJoinPoint joinPoint) throws Throwable {
    AiCalls calls = recorder != null ? recorder : installed;
    if (calls == null) {
      if (problems.firstTime("not installed")) {
        logger.warn(
            "An @AiModelCall method ran before AiModelCallAspect.install(AiCalls) was called, so it"
                + " was not recorded; neither are other such calls until then. Not logged again.");
      }
      return joinPoint.proceed();
    }
    String operation = AiCalls.DEFAULT_OPERATION;
    String provider = null;
    String model = null;
    try {
      Site site = site(joinPoint);
      Object[] args = site.needsArgs() ? joinPoint.getArgs() : null;
      operation = site.operation;
      provider = site.provider(args);
      model = site.model(args);
    } catch (RuntimeException | LinkageError e) {
      // Reflection refused, or an argument's toString() threw: record without the names.
      calls.recordingFailed(e);
    }
    return calls.invoke(operation, provider, model, joinPoint::proceed);
  }

  private Site site(ProceedingJoinPoint joinPoint) {
    MethodSignature signature = (MethodSignature) joinPoint.getSignature();
    Method method = signature.getMethod();
    Object target = joinPoint.getTarget();
    if (method.getDeclaringClass().isInterface() && target != null) {
      // A JDK proxy reports the interface's method; the annotations are on the implementation.
      try {
        method = target.getClass().getMethod(method.getName(), method.getParameterTypes());
      } catch (NoSuchMethodException e) {
        // Keep the interface method.
      }
    }
    Site known = sites.get(method);
    if (known != null) {
      return known;
    }
    Class<?> type = target != null ? target.getClass() : method.getDeclaringClass();
    return sites.computeIfAbsent(method, m -> Site.of(m, type));
  }

  /** What the annotations of one method say, read once. */
  private static final class Site {

    final String operation;
    final @Nullable String provider;
    final @Nullable String model;
    final int providerParameter;
    final int modelParameter;

    private Site(
        String operation,
        @Nullable String provider,
        @Nullable String model,
        int providerParameter,
        int modelParameter) {
      this.operation = operation;
      this.provider = provider;
      this.model = model;
      this.providerParameter = providerParameter;
      this.modelParameter = modelParameter;
    }

    static Site of(Method method, Class<?> type) {
      AiModelCall annotation = method.getAnnotation(AiModelCall.class);
      if (annotation == null) {
        annotation = type.getAnnotation(AiModelCall.class);
      }
      if (annotation == null) {
        annotation = method.getDeclaringClass().getAnnotation(AiModelCall.class);
      }
      String operation = AiCalls.DEFAULT_OPERATION;
      String provider = null;
      String model = null;
      if (annotation != null) {
        operation =
            annotation.operation().isBlank() ? AiCalls.DEFAULT_OPERATION : annotation.operation();
        provider = annotation.provider().isBlank() ? null : annotation.provider();
        model = annotation.model().isBlank() ? null : annotation.model();
      }
      int providerParameter = -1;
      int modelParameter = -1;
      Annotation[][] parameters = method.getParameterAnnotations();
      for (int i = 0; i < parameters.length; i++) {
        for (Annotation a : parameters[i]) {
          if (a instanceof AiProvider && providerParameter < 0) {
            providerParameter = i;
          } else if (a instanceof AiModel && modelParameter < 0) {
            modelParameter = i;
          }
        }
      }
      return new Site(AiCalls.cap(operation), provider, model, providerParameter, modelParameter);
    }

    boolean needsArgs() {
      return providerParameter >= 0 || modelParameter >= 0;
    }

    @Nullable String provider(Object @Nullable [] args) {
      return argument(args, providerParameter, provider);
    }

    @Nullable String model(Object @Nullable [] args) {
      return argument(args, modelParameter, model);
    }

    private static @Nullable String argument(
        Object @Nullable [] args, int index, @Nullable String fallback) {
      if (args == null || index < 0 || index >= args.length || args[index] == null) {
        return fallback;
      }
      String value = String.valueOf(args[index]);
      return value.isBlank() ? fallback : value;
    }
  }
}
