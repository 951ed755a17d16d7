package io.conea.benchmarks;

import io.conea.tracing.RouteTemplates;
import io.conea.tracing.servlet.ConeaTracingFilter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A servlet filter's cost per request, in process: an in-memory request goes through the filter to
 * a chain that sets the status, without a container or a network in the way.
 *
 * <p>{@code noFilter} is the chain alone; the difference to it is a filter's overhead. conea's
 * {@link ConeaTracingFilter} and {@link OpenTelemetryServletFilter} run on the same OpenTelemetry
 * SDK, once with a sampler that keeps no trace and once with one that keeps every trace (spans go
 * to an exporter that discards them). Both record their HTTP metrics: conea into its Prometheus
 * registry, OpenTelemetry into the SDK's meter provider.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ServletFilterBenchmark {

  /** One keep-alive connection's request and response, reused request after request. */
  @State(Scope.Thread)
  public static class Exchange {
    final FakeServletRequest request = new FakeServletRequest();
    final FakeServletResponse response = new FakeServletResponse();
    int status;
    final FilterChain chain = (req, res) -> ((HttpServletResponse) res).setStatus(status);
    private int position;

    void next() {
      int i = (position + 1) & (Requests.COUNT - 1);
      position = i;
      request.next(Requests.METHODS[i], Requests.PATHS[i]);
      response.next();
      status = Requests.STATUSES[i];
    }
  }

  /** A filter and the telemetry it writes to. */
  public abstract static class Instrumented {
    Telemetry telemetry;
    Filter filter;

    abstract boolean sampled();

    abstract Filter filter(Telemetry telemetry);

    abstract void verify(Telemetry telemetry);

    @Setup(Level.Trial)
    public void setUp() {
      telemetry = new Telemetry(sampled());
      filter = filter(telemetry);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      try {
        verify(telemetry);
      } finally {
        telemetry.close();
      }
    }
  }

  /** conea's filter, keeping no trace. */
  @State(Scope.Benchmark)
  public static class ConeaUnsampled extends Instrumented {
    @Override
    boolean sampled() {
      return false;
    }

    @Override
    Filter filter(Telemetry telemetry) {
      return ConeaTracingFilter.create(telemetry.tracing);
    }

    @Override
    void verify(Telemetry telemetry) {
      telemetry.verifyConea();
    }
  }

  /** conea's filter, keeping every trace. */
  @State(Scope.Benchmark)
  public static class ConeaSampled extends ConeaUnsampled {
    @Override
    boolean sampled() {
      return true;
    }
  }

  /** The OpenTelemetry instrumenter filter, keeping no trace. */
  @State(Scope.Benchmark)
  public static class OpenTelemetryUnsampled extends Instrumented {
    @Override
    boolean sampled() {
      return false;
    }

    @Override
    Filter filter(Telemetry telemetry) {
      return new OpenTelemetryServletFilter(
          telemetry.openTelemetry, RouteTemplates.of(Requests.ROUTE_TEMPLATES));
    }

    @Override
    void verify(Telemetry telemetry) {
      telemetry.verifyOpenTelemetry();
    }
  }

  /** The OpenTelemetry instrumenter filter, keeping every trace. */
  @State(Scope.Benchmark)
  public static class OpenTelemetrySampled extends OpenTelemetryUnsampled {
    @Override
    boolean sampled() {
      return true;
    }
  }

  /** The chain alone: what every filter's figure is compared with. */
  @Benchmark
  public void noFilter(Exchange exchange) throws IOException, ServletException {
    exchange.next();
    exchange.chain.doFilter(exchange.request, exchange.response);
  }

  /** conea's filter, trace not sampled. */
  @Benchmark
  public void coneaUnsampled(ConeaUnsampled state, Exchange exchange)
      throws IOException, ServletException {
    exchange.next();
    state.filter.doFilter(exchange.request, exchange.response, exchange.chain);
  }

  /** conea's filter, trace sampled. */
  @Benchmark
  public void coneaSampled(ConeaSampled state, Exchange exchange)
      throws IOException, ServletException {
    exchange.next();
    state.filter.doFilter(exchange.request, exchange.response, exchange.chain);
  }

  /** OpenTelemetry's instrumenter filter, trace not sampled. */
  @Benchmark
  public void openTelemetryUnsampled(OpenTelemetryUnsampled state, Exchange exchange)
      throws IOException, ServletException {
    exchange.next();
    state.filter.doFilter(exchange.request, exchange.response, exchange.chain);
  }

  /** OpenTelemetry's instrumenter filter, trace sampled. */
  @Benchmark
  public void openTelemetrySampled(OpenTelemetrySampled state, Exchange exchange)
      throws IOException, ServletException {
    exchange.next();
    state.filter.doFilter(exchange.request, exchange.response, exchange.chain);
  }
}
