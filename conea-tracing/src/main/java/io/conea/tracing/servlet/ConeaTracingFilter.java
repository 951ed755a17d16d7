package io.conea.tracing.servlet;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerRequestAccessor;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import io.opentelemetry.context.Scope;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A jakarta servlet filter that traces, counts and log-correlates every HTTP request; a thin
 * adapter over {@link HttpServerTracing}.
 *
 * <p>Map it first, for all paths, on the REQUEST dispatcher type (it also tolerates ASYNC and ERROR
 * dispatches of a request it already started). With Jetty 12:
 *
 * <pre>{@code
 * ServletContextHandler context = new ServletContextHandler();
 * context.addFilter(new FilterHolder(ConeaTracingFilter.create(httpServerTracing)),
 *     "/*", EnumSet.of(DispatcherType.REQUEST));
 * }</pre>
 *
 * <p>A synchronous request ends when the chain returns. An asynchronous one ends once, when the
 * container completes it (after a completion, a timeout or an error), with the final status and the
 * whole duration; a timeout or an error on the way counts as 500 unless the final status is already
 * a 5xx, and marks the span as an error. Anything thrown by the chain, checked exceptions thrown
 * sneakily included, is recorded as status 500 and an error span, then rethrown unchanged; except
 * that a client that went away (the container's end-of-file or abort exception, a reset) is counted
 * 499 and a malformed request the container answers itself (its bad-request exception) is counted
 * with that 4xx. Behind conea's Jetty handler ({@code io.conea.tracing.jetty}), the request is
 * counted once its response is written, with the status the client received: 499 when writing
 * failed or the client closed mid-body, the status sent otherwise. The route template comes from
 * the {@link io.conea.tracing.RouteResolver}, else from Spring MVC's {@code
 * HandlerMapping.bestMatchingPattern} request attribute. Routes, {@code url.path} and the MDC
 * {@code path} use the path within the application: the request URI without the context path and
 * without segment parameters such as {@code ;jsessionid=...}.
 */
public final class ConeaTracingFilter implements Filter {

  /** The request attribute in which Spring MVC leaves the route template it matched. */
  static final String SPRING_BEST_MATCHING_PATTERN =
      "org.springframework.web.servlet.HandlerMapping.bestMatchingPattern";

  /** The request attribute that holds the request's {@link TracedRequest}. */
  public static final String TRACED_REQUEST_ATTRIBUTE = TracedRequest.class.getName();

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();

  private static final int MINIMUM_SERVLET_MAJOR_VERSION =
      Integer.parseInt(
          Compatibility.minimum(Compatibility.JAKARTA_SERVLET).replaceFirst("\\..*", ""));

  private final HttpServerTracing tracing;

  ConeaTracingFilter(HttpServerTracing tracing) {
    this.tracing = tracing;
  }

  /**
   * Fails unless the container implements Jakarta Servlet 6.0 or newer, the oldest version conea
   * supports.
   */
  @Override
  public void init(FilterConfig config) throws ServletException {
    int major = config.getServletContext().getMajorVersion();
    if (major < MINIMUM_SERVLET_MAJOR_VERSION) {
      throw new ServletException(
          "ConeaTracingFilter needs a Jakarta Servlet "
              + MINIMUM_SERVLET_MAJOR_VERSION
              + ".0 container or newer, but this one implements Servlet "
              + major
              + "."
              + config.getServletContext().getMinorVersion());
    }
  }

  /** Returns a filter that instruments requests with the given instrumentation. */
  public static ConeaTracingFilter create(HttpServerTracing tracing) {
    return new ConeaTracingFilter(requireNonNull(tracing, "tracing"));
  }

  /** Traces, counts and log-correlates the request around the rest of the chain. */
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
    Object existing = request.getAttribute(TRACED_REQUEST_ATTRIBUTE);
    if (existing instanceof TracedRequest) {
      // A later dispatch of a request already started: only restore its context.
      try (Scope scope = ((TracedRequest) existing).makeCurrent()) {
        chain.doFilter(request, response);
      }
      return;
    }
    TracedRequest traced;
    try {
      traced = tracing.start(httpRequest, ACCESSOR);
    } catch (RuntimeException | LinkageError e) {
      // start() contains its own failures; one it cannot is no reason to fail the request.
      PROBLEMS.report(
          LOGGER,
          "start",
          "HTTP instrumentation could not start a request; it is served without it. Later"
              + " failures of this kind are logged at debug level.",
          e);
      chain.doFilter(request, response);
      return;
    }
    request.setAttribute(TRACED_REQUEST_ATTRIBUTE, traced);
    if (transportObserved(request)) {
      traced.deferEndToTransport();
    }
    // The request ends inside its scope, so that recording the end needs no second one.
    try (Scope scope = traced.makeCurrent()) {
      Throwable error = null;
      try {
        chain.doFilter(request, response);
      } catch (Throwable e) {
        // Throwable, not the declared types: a checked exception thrown sneakily (Lombok's
        // @SneakyThrows, Kotlin) must not be counted as a success. Precise rethrow keeps the
        // signature.
        error = e;
        throw e;
      } finally {
        finish(traced, httpRequest, httpResponse, error);
      }
    }
  }

  private void finish(
      TracedRequest traced,
      HttpServletRequest request,
      HttpServletResponse response,
      Throwable error) {
    if (error != null) {
      endFailed(traced, request, error);
      return;
    }
    boolean async = false;
    try {
      if (request.isAsyncStarted()) {
        request.getAsyncContext().addListener(new EndOnCompletion(traced), request, response);
        async = true;
      }
    } catch (RuntimeException | LinkageError e) {
      // Completed between the two calls: the response is final, so end now.
      async = false;
    }
    if (!async) {
      int status = status(response);
      traced.end(status, null, frameworkRoute(request));
    }
  }

  /**
   * Ends a request whose handling threw: a client that went away (a close mid-body, a reset) is
   * {@value TracedRequest#CLIENT_CLOSED_REQUEST}, a malformed request the container answers itself
   * is that 4xx, anything else 500.
   */
  private static void endFailed(TracedRequest traced, HttpServletRequest request, Throwable error) {
    Throwable cause = cause(error);
    if (isClientAbort(error)) {
      traced.endAborted(cause);
      return;
    }
    int status = badRequestStatus(error);
    traced.end(status, cause, frameworkRoute(request));
  }

  private static boolean transportObserved(ServletRequest request) {
    try {
      return request.getAttribute(TracedRequest.TRANSPORT_OBSERVED_ATTRIBUTE) != null;
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /**
   * Returns whether the exception, or one of its first causes, says that the client went away,
   * recognised by class name so that the filter stays container-neutral: Jetty's {@code
   * EofException} (and its {@code HttpEofException} for a body cut short), Tomcat's {@code
   * ClientAbortException}, a closed channel (Undertow), or an I/O error of a reset or broken
   * connection. A plain {@link java.io.EOFException} is not: applications throw it for their own
   * reasons.
   */
  static boolean isClientAbort(Throwable error) {
    Throwable current = error;
    for (int i = 0; i < 8 && current != null; i++) {
      String name = current.getClass().getSimpleName();
      if (name.endsWith("EofException")
          || name.equals("ClientAbortException")
          || current instanceof ClosedChannelException) {
        return true;
      }
      if (current instanceof IOException && isResetMessage(current.getMessage())) {
        return true;
      }
      Throwable cause = current.getCause();
      current = cause == current ? null : cause;
    }
    return false;
  }

  private static boolean isResetMessage(@Nullable String message) {
    return message != null
        && (message.contains("Connection reset") || message.contains("Broken pipe"));
  }

  /**
   * Returns the 4xx status the container answers a malformed request with, when the exception is
   * its bad-request exception (Jetty's {@code BadMessageException}, Tomcat's {@code
   * BadRequestException}); else 500.
   */
  static int badRequestStatus(Throwable error) {
    Throwable current = error;
    for (int i = 0; i < 8 && current != null; i++) {
      String name = current.getClass().getSimpleName();
      if (name.equals("BadMessageException") || name.equals("BadRequestException")) {
        int code = code(current);
        return code >= 400 && code <= 499 ? code : 400;
      }
      Throwable cause = current.getCause();
      current = cause == current ? null : cause;
    }
    return 500;
  }

  /** Returns the status code a container exception carries in {@code getCode()}, or 0. */
  private static int code(Throwable error) {
    try {
      Object code = error.getClass().getMethod("getCode").invoke(error);
      return code instanceof Integer ? (Integer) code : 0;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return 0;
    }
  }

  private static int status(HttpServletResponse response) {
    try {
      return response.getStatus();
    } catch (RuntimeException | LinkageError e) {
      return 500;
    }
  }

  /**
   * Returns the route the framework matched (Spring MVC's best matching pattern), or null; the core
   * ignores Spring's catch-all {@code /**} of a request that found nothing.
   */
  private static @Nullable String frameworkRoute(HttpServletRequest request) {
    try {
      Object pattern = request.getAttribute(SPRING_BEST_MATCHING_PATTERN);
      return pattern instanceof String ? (String) pattern : null;
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * Returns the exception the application threw: containers and frameworks (Spring MVC's {@code
   * Request processing failed}) wrap it in {@link ServletException}s, which say nothing of its
   * kind. At most a few levels are unwrapped.
   */
  static Throwable cause(Throwable error) {
    Throwable current = error;
    for (int i = 0; i < 8 && current instanceof ServletException; i++) {
      Throwable cause = current.getCause();
      if (cause == null || cause == current) {
        break;
      }
      current = cause;
    }
    return current;
  }

  /** Ends an asynchronous request when the container completes it, which it does exactly once. */
  private static final class EndOnCompletion implements AsyncListener {
    private final TracedRequest traced;
    private volatile Throwable error;

    EndOnCompletion(TracedRequest traced) {
      this.traced = traced;
    }

    @Override
    public void onComplete(AsyncEvent event) {
      HttpServletResponse response = (HttpServletResponse) event.getSuppliedResponse();
      HttpServletRequest request = (HttpServletRequest) event.getSuppliedRequest();
      Throwable failure = error;
      if (failure != null && isClientAbort(failure)) {
        traced.endAborted(cause(failure));
        return;
      }
      int status = status(response);
      int counted = failure != null && status < 500 ? badRequestStatus(failure) : status;
      traced.end(counted, failure == null ? null : cause(failure), frameworkRoute(request));
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      error = new TimeoutException("Asynchronous request timed out");
    }

    @Override
    public void onError(AsyncEvent event) {
      Throwable failure = event.getThrowable();
      error = failure != null ? failure : new IllegalStateException("Asynchronous request failed");
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      // A new asynchronous cycle drops the listeners of the previous one.
      event
          .getAsyncContext()
          .addListener(this, event.getSuppliedRequest(), event.getSuppliedResponse());
    }
  }

  /**
   * Returns the request URI without the context path, as routes are declared within the
   * application; the URI as is when it does not start with the context path (an encoded context
   * path, say), so that nothing is lost.
   */
  static @Nullable String pathWithinApplication(
      @Nullable String uri, @Nullable String contextPath) {
    if (uri == null || contextPath == null || contextPath.isEmpty()) {
      return uri;
    }
    int length = contextPath.length();
    if (!uri.startsWith(contextPath)) {
      return uri;
    }
    if (uri.length() == length) {
      return "/";
    }
    char next = uri.charAt(length);
    // A ";jsessionid=..." right after the context path is removed with the other parameters.
    return next == '/' || next == ';' ? uri.substring(length) : uri;
  }

  static final HttpServerRequestAccessor<HttpServletRequest> ACCESSOR =
      new HttpServerRequestAccessor<>() {
        @Override
        public String method(HttpServletRequest request) {
          return request.getMethod();
        }

        @Override
        public String path(HttpServletRequest request) {
          return pathWithinApplication(request.getRequestURI(), request.getContextPath());
        }

        @Override
        public String query(HttpServletRequest request) {
          return request.getQueryString();
        }

        @Override
        public String scheme(HttpServletRequest request) {
          return request.getScheme();
        }

        @Override
        public String protocol(HttpServletRequest request) {
          return request.getProtocol();
        }

        @Override
        public String peerAddress(HttpServletRequest request) {
          return request.getRemoteAddr();
        }

        @Override
        public String get(HttpServletRequest request, String key) {
          return request == null ? null : request.getHeader(key);
        }
      };
}
