package io.conea.benchmarks;

import io.conea.tracing.RouteResolver;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.instrumentation.api.instrumenter.Instrumenter;
import io.opentelemetry.instrumentation.api.semconv.http.HttpServerAttributesExtractor;
import io.opentelemetry.instrumentation.api.semconv.http.HttpServerAttributesGetter;
import io.opentelemetry.instrumentation.api.semconv.http.HttpServerMetrics;
import io.opentelemetry.instrumentation.api.semconv.http.HttpServerRoute;
import io.opentelemetry.instrumentation.api.semconv.http.HttpSpanNameExtractor;
import io.opentelemetry.instrumentation.api.semconv.http.HttpSpanStatusExtractor;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * The OpenTelemetry alternative to conea's servlet filter, built from the blocks OpenTelemetry's
 * own servlet instrumentation is made of: an {@link Instrumenter} with the HTTP server span name,
 * status and attribute extractors, the route customizer and the {@code
 * http.server.request.duration} metric.
 *
 * <p>It is the least such a filter does: no asynchronous requests, no captured headers, no
 * servlet-mapping routes. Its cost is therefore a lower bound of OpenTelemetry's servlet
 * instrumentation. The route comes from the same resolver conea's filter uses, so both name spans
 * and label metrics alike.
 */
final class OpenTelemetryServletFilter implements Filter {

  private final Instrumenter<HttpServletRequest, HttpServletResponse> instrumenter;

  OpenTelemetryServletFilter(OpenTelemetry openTelemetry, RouteResolver routes) {
    Getter getter = new Getter(routes);
    this.instrumenter =
        Instrumenter.<HttpServletRequest, HttpServletResponse>builder(
                openTelemetry, "io.opentelemetry.servlet-5.0", HttpSpanNameExtractor.create(getter))
            .setSpanStatusExtractor(HttpSpanStatusExtractor.create(getter))
            .addAttributesExtractor(HttpServerAttributesExtractor.create(getter))
            .addContextCustomizer(HttpServerRoute.create(getter))
            .addOperationMetrics(HttpServerMetrics.get())
            .buildServerInstrumenter(Headers.INSTANCE);
  }

  @Override
  @SuppressWarnings("try") // the scope is what the rest of the chain sees
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!(request instanceof HttpServletRequest) || !(response instanceof HttpServletResponse)) {
      chain.doFilter(request, response);
      return;
    }
    HttpServletRequest httpRequest = (HttpServletRequest) request;
    HttpServletResponse httpResponse = (HttpServletResponse) response;
    Context parent = Context.current();
    if (!instrumenter.shouldStart(parent, httpRequest)) {
      chain.doFilter(request, response);
      return;
    }
    Context context = instrumenter.start(parent, httpRequest);
    Throwable error = null;
    try (Scope scope = context.makeCurrent()) {
      chain.doFilter(request, response);
    } catch (IOException | ServletException | RuntimeException | Error e) {
      error = e;
      throw e;
    } finally {
      instrumenter.end(context, httpRequest, httpResponse, error);
    }
  }

  /** Reads the HTTP semantic-convention attributes from the servlet request and response. */
  private static final class Getter
      implements HttpServerAttributesGetter<HttpServletRequest, HttpServletResponse> {

    private final RouteResolver routes;

    Getter(RouteResolver routes) {
      this.routes = routes;
    }

    @Override
    public String getHttpRequestMethod(HttpServletRequest request) {
      return request.getMethod();
    }

    @Override
    public List<String> getHttpRequestHeader(HttpServletRequest request, String name) {
      return Collections.list(request.getHeaders(name));
    }

    @Override
    public Integer getHttpResponseStatusCode(
        HttpServletRequest request, HttpServletResponse response, Throwable error) {
      return response.getStatus();
    }

    @Override
    public List<String> getHttpResponseHeader(
        HttpServletRequest request, HttpServletResponse response, String name) {
      Collection<String> values = response.getHeaders(name);
      return values.isEmpty() ? Collections.emptyList() : new ArrayList<>(values);
    }

    @Override
    public String getUrlScheme(HttpServletRequest request) {
      return request.getScheme();
    }

    @Override
    public String getUrlPath(HttpServletRequest request) {
      return request.getRequestURI();
    }

    @Override
    public String getUrlQuery(HttpServletRequest request) {
      return request.getQueryString();
    }

    @Override
    public String getHttpRoute(HttpServletRequest request) {
      return routes.resolve(request.getMethod(), request.getRequestURI());
    }

    @Override
    public String getNetworkProtocolName(HttpServletRequest request, HttpServletResponse response) {
      String protocol = request.getProtocol();
      return protocol != null && protocol.startsWith("HTTP/") ? "http" : null;
    }

    @Override
    public String getNetworkProtocolVersion(
        HttpServletRequest request, HttpServletResponse response) {
      String protocol = request.getProtocol();
      return protocol != null && protocol.startsWith("HTTP/") ? protocol.substring(5) : null;
    }

    @Override
    public String getNetworkPeerAddress(HttpServletRequest request, HttpServletResponse response) {
      return request.getRemoteAddr();
    }

    @Override
    public Integer getNetworkPeerPort(HttpServletRequest request, HttpServletResponse response) {
      return request.getRemotePort();
    }

    @Override
    public String getNetworkLocalAddress(HttpServletRequest request, HttpServletResponse response) {
      return request.getLocalAddr();
    }

    @Override
    public Integer getNetworkLocalPort(HttpServletRequest request, HttpServletResponse response) {
      return request.getLocalPort();
    }
  }

  /** Hands request headers to the propagators. */
  private enum Headers implements TextMapGetter<HttpServletRequest> {
    INSTANCE;

    @Override
    public String get(HttpServletRequest request, String key) {
      return request == null ? null : request.getHeader(key);
    }
  }
}
