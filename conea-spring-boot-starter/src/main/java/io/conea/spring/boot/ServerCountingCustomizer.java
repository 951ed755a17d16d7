package io.conea.spring.boot;

import io.conea.spring.boot.webflux.ReactorNettyCounting;
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
 * Counts what the embedded server answers before conea's filter (requests it rejects while parsing
 * them): {@link ConeaTomcatValve} on Boot's Tomcat, {@link ConeaJettyHandler} on Boot's Jetty,
 * {@link ReactorNettyCounting} on Boot's Reactor Netty.
 *
 * <p>The factories' methods are found by name, because their types moved package between Spring
 * Boot 3.5 and 4.0 ({@code org.springframework.boot.web.embedded.jetty.JettyServerCustomizer} and
 * {@code org.springframework.boot.jetty.JettyServerCustomizer}, {@code
 * org.springframework.boot.web.embedded.netty.NettyServerCustomizer} and {@code
 * org.springframework.boot.reactor.netty.NettyServerCustomizer}); a factory that has none of these
 * methods (Undertow, a user's own) is left as it is.
 */
final class ServerCountingCustomizer implements WebServerFactoryCustomizer<WebServerFactory> {

  private static final ClassLoader LOADER = ServerCountingCustomizer.class.getClassLoader();
  private static final boolean TOMCAT =
      ClassUtils.isPresent("org.apache.catalina.Valve", LOADER)
          && ClassUtils.isPresent("org.apache.catalina.AccessLog", LOADER);
  private static final boolean JETTY =
      ClassUtils.isPresent("org.eclipse.jetty.server.RequestLog", LOADER);
  private static final boolean REACTOR_NETTY =
      ClassUtils.isPresent("reactor.netty.http.server.HttpServer", LOADER)
          && ClassUtils.isPresent("io.netty.channel.ChannelDuplexHandler", LOADER);

  private final HttpServerTracing tracing;

  ServerCountingCustomizer(HttpServerTracing tracing) {
    this.tracing = tracing;
  }

  @Override
  public void customize(WebServerFactory factory) {
    if (TOMCAT && Tomcat.customize(factory, tracing)) {
      return;
    }
    if (JETTY && Jetty.customize(factory, tracing)) {
      return;
    }
    if (REACTOR_NETTY) {
      ReactorNetty.customize(factory, tracing);
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
    static boolean customize(WebServerFactory factory, HttpServerTracing tracing) {
      return addServerCustomizer(
          factory,
          "JettyServerCustomizer",
          "customize",
          server -> {
            ConeaJettyHandler.install((org.eclipse.jetty.server.Server) server, tracing);
            return null;
          });
    }
  }

  /** Refers to Reactor Netty's types: loaded only when Reactor Netty is present. */
  private static final class ReactorNetty {
    static boolean customize(WebServerFactory factory, HttpServerTracing tracing) {
      // NettyServerCustomizer is a Function<HttpServer, HttpServer>.
      return addServerCustomizer(
          factory,
          "NettyServerCustomizer",
          "apply",
          server ->
              ReactorNettyCounting.install((reactor.netty.http.server.HttpServer) server, tracing));
    }
  }

  /**
   * Adds to {@code factory}, through its {@code addServerCustomizers} method, a customizer of the
   * interface named {@code customizerName} whose one-argument {@code methodName} calls {@code
   * action}; returns false when the factory has no such method.
   */
  private static boolean addServerCustomizer(
      WebServerFactory factory,
      String customizerName,
      String methodName,
      java.util.function.Function<Object, @Nullable Object> action) {
    Method addServerCustomizers = serverCustomizersMethod(factory.getClass(), customizerName);
    if (addServerCustomizers == null) {
      return false;
    }
    Class<?> customizerType = addServerCustomizers.getParameterTypes()[0].getComponentType();
    Object customizer =
        Proxy.newProxyInstance(
            customizerType.getClassLoader(),
            new Class<?>[] {customizerType},
            (proxy, method, args) -> {
              if (method.getName().equals(methodName) && args != null && args.length == 1) {
                return action.apply(args[0]);
              }
              if (method.getName().equals("equals")) {
                return proxy == (args == null ? null : args[0]);
              }
              if (method.getName().equals("hashCode")) {
                return System.identityHashCode(proxy);
              }
              return "conea's " + customizerName;
            });
    Object customizers = Array.newInstance(customizerType, 1);
    Array.set(customizers, 0, customizer);
    invoke(addServerCustomizers, factory, customizers);
    return true;
  }

  private static @Nullable Method serverCustomizersMethod(
      Class<?> factoryType, String customizerName) {
    for (Method method : factoryType.getMethods()) {
      Class<?>[] parameters = method.getParameterTypes();
      if (method.getName().equals("addServerCustomizers")
          && parameters.length == 1
          && parameters[0].isArray()
          && parameters[0].getComponentType().isInterface()
          && parameters[0].getComponentType().getSimpleName().equals(customizerName)) {
        return method;
      }
    }
    return null;
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
