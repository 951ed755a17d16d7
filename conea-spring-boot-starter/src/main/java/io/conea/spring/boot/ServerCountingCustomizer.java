package io.conea.spring.boot;

import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.jetty.ConeaJettyHandler;
import io.conea.tracing.tomcat.ConeaTomcatValve;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.web.server.WebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.util.ClassUtils;

/**
 * Counts what the embedded servlet container answers before conea's filter (requests it rejects
 * while parsing them): {@link ConeaTomcatValve} on Boot's Tomcat, {@link ConeaJettyHandler} on
 * Boot's Jetty.
 *
 * <p>The factories' methods are found by name, because their types moved package between Spring
 * Boot 3.5 and 4.0 ({@code org.springframework.boot.web.embedded.jetty.JettyServerCustomizer} and
 * {@code org.springframework.boot.jetty.JettyServerCustomizer}); a factory that has neither method
 * (Undertow, a user's own) is left as it is.
 */
final class ServerCountingCustomizer implements WebServerFactoryCustomizer<WebServerFactory> {

  private static final ClassLoader LOADER = ServerCountingCustomizer.class.getClassLoader();
  private static final boolean TOMCAT =
      ClassUtils.isPresent("org.apache.catalina.Valve", LOADER)
          && ClassUtils.isPresent("org.apache.catalina.AccessLog", LOADER);
  private static final boolean JETTY =
      ClassUtils.isPresent("org.eclipse.jetty.server.RequestLog", LOADER);

  private final HttpServerTracing tracing;

  ServerCountingCustomizer(HttpServerTracing tracing) {
    this.tracing = tracing;
  }

  @Override
  public void customize(WebServerFactory factory) {
    if (TOMCAT && Tomcat.customize(factory, tracing)) {
      return;
    }
    if (JETTY) {
      Jetty.customize(factory, tracing);
    }
  }

  /** Refers to Tomcat's types: loaded only when Tomcat is present. */
  private static final class Tomcat {
    static boolean customize(WebServerFactory factory, HttpServerTracing tracing) {
      Method addEngineValves =
          ClassUtils.getMethodIfAvailable(
              factory.getClass(), "addEngineValves", org.apache.catalina.Valve[].class);
      if (addEngineValves == null) {
        return false;
      }
      invoke(
          addEngineValves,
          factory,
          (Object) new org.apache.catalina.Valve[] {ConeaTomcatValve.create(tracing)});
      return true;
    }
  }

  /** Refers to Jetty's types: loaded only when Jetty is present. */
  private static final class Jetty {
    static void customize(WebServerFactory factory, HttpServerTracing tracing) {
      Method addServerCustomizers = serverCustomizersMethod(factory.getClass());
      if (addServerCustomizers == null) {
        return;
      }
      Class<?> customizerType = addServerCustomizers.getParameterTypes()[0].getComponentType();
      Object customizer =
          Proxy.newProxyInstance(
              customizerType.getClassLoader(),
              new Class<?>[] {customizerType},
              (proxy, method, args) -> {
                if (method.getName().equals("customize") && args != null && args.length == 1) {
                  ConeaJettyHandler.install((org.eclipse.jetty.server.Server) args[0], tracing);
                  return null;
                }
                if (method.getName().equals("equals")) {
                  return proxy == (args == null ? null : args[0]);
                }
                if (method.getName().equals("hashCode")) {
                  return System.identityHashCode(proxy);
                }
                return "conea's Jetty customizer";
              });
      Object customizers = Array.newInstance(customizerType, 1);
      Array.set(customizers, 0, customizer);
      invoke(addServerCustomizers, factory, customizers);
    }

    private static @Nullable Method serverCustomizersMethod(Class<?> factoryType) {
      for (Method method : factoryType.getMethods()) {
        Class<?>[] parameters = method.getParameterTypes();
        if (method.getName().equals("addServerCustomizers")
            && parameters.length == 1
            && parameters[0].isArray()
            && parameters[0].getComponentType().isInterface()
            && parameters[0].getComponentType().getSimpleName().equals("JettyServerCustomizer")) {
          return method;
        }
      }
      return null;
    }
  }

  private static void invoke(Method method, Object target, Object argument) {
    try {
      method.invoke(target, argument);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "conea could not add its request counting to " + target.getClass().getName(), e);
    }
  }
}
