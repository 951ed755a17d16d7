package io.conea.demo;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the demo service until SIGTERM or Ctrl-C.
 *
 * <p>Environment: {@code CONEA_DEMO_HOST} (the address to listen on, default 127.0.0.1), {@code
 * CONEA_DEMO_SERVLET_PORT} (default 8080), {@code CONEA_DEMO_NETTY_PORT} (default 8081) and the
 * standard {@code OTEL_*} variables. Argument {@code --traffic} makes the demo send itself a steady
 * mix of requests.
 */
public final class DemoMain {

  private DemoMain() {}

  /** Starts the demo and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws Exception {
    Demo.Settings settings;
    try {
      settings = Demo.Settings.fromEnvironment(System.getenv(), List.of(args));
    } catch (IllegalArgumentException e) {
      System.err.println("conea demo: " + e.getMessage());
      System.exit(2);
      return;
    }
    Demo demo = Demo.start(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  demo.close();
                  stopped.countDown();
                },
                "demo-shutdown"));
    stopped.await();
  }
}
