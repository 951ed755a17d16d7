package io.conea.spring.boot.webflux;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerRequestAccessor;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import io.opentelemetry.context.Scope;
import java.net.InetSocketAddress;
import java.net.URI;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.util.ClassUtils;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * A Spring WebFlux {@link WebFilter} that traces, counts and log-correlates every request; a thin
 * adapter over {@link HttpServerTracing}, like the servlet filter and the Netty handler.
 *
 * <p>The request's context and MDC values are current while the rest of the chain is subscribed,
 * which is when WebFlux finds the handler and calls the controller method, and while the
 * subscription is requested: a controller's log lines carry trace_id, span_id, method and path.
 * Work that a handler moves to other threads (a {@code publishOn}, a timer) runs without them,
 * unless the application propagates context there itself.
 *
 * <p>The request ends once: when the chain completes, with the response's status; when it fails,
 * with the status that WebFlux's error handling answers (the status of a {@link ErrorResponse} such
 * as {@code ResponseStatusException}, of a {@link ResponseStatus} annotation on the exception, else
 * 500, which also marks the span as an error and writes the request's error line); when the
 * subscription is cancelled, because the client went away, as {@value
 * TracedRequest#CLIENT_CLOSED_REQUEST} unless a status was already sent. The route is WebFlux's
 * best-matching pattern, except the static-resource catch-all {@code /**} of a request that found
 * nothing: that one is counted as {@code NOT_FOUND}.
 */
public final class ConeaWebFilter implements WebFilter, Ordered {

  /** The exchange attribute that holds the request's {@link TracedRequest}. */
  public static final String TRACED_REQUEST_ATTRIBUTE = TracedRequest.class.getName();

  /** WebFlux's {@code HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE}: a {@code PathPattern}. */
  static final String BEST_MATCHING_PATTERN =
      "org.springframework.web.reactive.HandlerMapping.bestMatchingPattern";

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();

  /** Whether {@link ReactorNettyCounting} can be loaded, to tell it which requests started. */
  private static final boolean REACTOR_NETTY =
      ClassUtils.isPresent("reactor.netty.Connection", ConeaWebFilter.class.getClassLoader())
          && ClassUtils.isPresent(
              "io.netty.channel.ChannelDuplexHandler", ConeaWebFilter.class.getClassLoader());

  private final HttpServerTracing tracing;

  private ConeaWebFilter(HttpServerTracing tracing) {
    this.tracing = tracing;
  }

  /** Returns a filter that instruments requests with the given instrumentation. */
  public static ConeaWebFilter create(HttpServerTracing tracing) {
    return new ConeaWebFilter(requireNonNull(tracing, "tracing"));
  }

  /** First, so that the whole chain is inside the request. */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (exchange.getAttribute(TRACED_REQUEST_ATTRIBUTE) != null) {
      return chain.filter(exchange);
    }
    TracedRequest traced;
    try {
      traced = tracing.start(exchange.getRequest(), ACCESSOR);
      exchange.getAttributes().put(TRACED_REQUEST_ATTRIBUTE, traced);
      if (REACTOR_NETTY) {
        ReactorNettyCounting.markStarted(exchange.getRequest());
      }
      ServerHttpResponse response = exchange.getResponse();
      response.beforeCommit(
          () -> {
            traced.responseStatus(status(response, 200));
            return Mono.empty();
          });
    } catch (RuntimeException | LinkageError e) {
      // start() contains its own failures; one it cannot is no reason to fail the request.
      PROBLEMS.report(
          LOGGER,
          "start",
          "HTTP instrumentation could not start a request; it is served without it. Later"
              + " failures of this kind are logged at debug level.",
          e);
      return chain.filter(exchange);
    }
    return new TracedMono(exchange, chain, traced);
  }

  /** The rest of the chain, subscribed inside the request's scope and ended once. */
  private static final class TracedMono extends Mono<Void> {
    private final ServerWebExchange exchange;
    private final WebFilterChain chain;
    private final TracedRequest traced;

    TracedMono(ServerWebExchange exchange, WebFilterChain chain, TracedRequest traced) {
      this.exchange = exchange;
      this.chain = chain;
      this.traced = traced;
    }

    @Override
    @SuppressWarnings("try") // the scope is what the chain sees while it is subscribed
    public void subscribe(CoreSubscriber<? super Void> actual) {
      try (Scope scope = traced.makeCurrent()) {
        Mono<Void> rest;
        try {
          rest = chain.filter(exchange);
        } catch (Throwable e) {
          // A filter or handler that throws instead of returning an error: the same outcome.
          EndingSubscriber.fail(exchange, traced, e);
          Operators.error(actual, e);
          return;
        }
        rest.subscribe(new EndingSubscriber(actual, exchange, traced));
      }
    }
  }

  /** Passes every signal on, ending the request at the first terminal one or a cancel. */
  private static final class EndingSubscriber implements CoreSubscriber<Void>, Subscription {
    private final CoreSubscriber<? super Void> actual;
    private final ServerWebExchange exchange;
    private final TracedRequest traced;
    private @Nullable Subscription upstream;

    EndingSubscriber(
        CoreSubscriber<? super Void> actual, ServerWebExchange exchange, TracedRequest traced) {
      this.actual = actual;
      this.exchange = exchange;
      this.traced = traced;
    }

    @Override
    public Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      if (Operators.validate(upstream, subscription)) {
        upstream = subscription;
        actual.onSubscribe(this);
      }
    }

    @Override
    public void onNext(Void value) {
      actual.onNext(value);
    }

    @Override
    public void onError(Throwable error) {
      fail(exchange, traced, error);
      actual.onError(error);
    }

    @Override
    public void onComplete() {
      ServerHttpResponse response = exchange.getResponse();
      int status = status(response, 200);
      traced.end(status, null, route(exchange));
      actual.onComplete();
    }

    @Override
    @SuppressWarnings("try") // the handler may run when the body is requested
    public void request(long n) {
      Subscription subscription = upstream;
      if (subscription != null) {
        try (Scope scope = traced.makeCurrent()) {
          subscription.request(n);
        }
      }
    }

    @Override
    public void cancel() {
      Subscription subscription = upstream;
      if (subscription != null) {
        subscription.cancel();
      }
      traced.endConnectionClosed();
    }

    /**
     * Ends a request whose chain failed with the status WebFlux's error handling will answer: the
     * one already sent, else the exception's.
     */
    static void fail(ServerWebExchange exchange, TracedRequest traced, Throwable error) {
      int status;
      try {
        ServerHttpResponse response = exchange.getResponse();
        status = response.isCommitted() ? status(response, 500) : status(error);
      } catch (RuntimeException | LinkageError e) {
        status = 500;
      }
      traced.end(status, status >= 500 ? error : null, route(exchange));
    }
  }

  /** The status WebFlux and Spring Boot answer for an exception that reaches them. */
  static int status(Throwable error) {
    if (error instanceof ErrorResponse) {
      return ((ErrorResponse) error).getStatusCode().value();
    }
    ResponseStatus annotation =
        AnnotatedElementUtils.findMergedAnnotation(error.getClass(), ResponseStatus.class);
    return annotation != null ? annotation.code().value() : 500;
  }

  private static int status(ServerHttpResponse response, int otherwise) {
    try {
      HttpStatusCode code = response.getStatusCode();
      return code != null ? code.value() : otherwise;
    } catch (RuntimeException | LinkageError e) {
      return otherwise;
    }
  }

  /** WebFlux's best-matching pattern, or null. */
  static @Nullable String route(ServerWebExchange exchange) {
    try {
      Object pattern = exchange.getAttribute(BEST_MATCHING_PATTERN);
      return pattern == null ? null : pattern.toString();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  static final HttpServerRequestAccessor<ServerHttpRequest> ACCESSOR =
      new HttpServerRequestAccessor<>() {
        @Override
        public String method(ServerHttpRequest request) {
          return request.getMethod().name();
        }

        @Override
        public String path(ServerHttpRequest request) {
          return request.getPath().pathWithinApplication().value();
        }

        @Override
        public @Nullable String query(ServerHttpRequest request) {
          return request.getURI().getRawQuery();
        }

        @Override
        public String scheme(ServerHttpRequest request) {
          URI uri = request.getURI();
          String scheme = uri.getScheme();
          return scheme != null ? scheme : (request.getSslInfo() != null ? "https" : "http");
        }

        @Override
        public @Nullable String protocol(ServerHttpRequest request) {
          // Not exposed by WebFlux's request abstraction.
          return null;
        }

        @Override
        public @Nullable String peerAddress(ServerHttpRequest request) {
          InetSocketAddress remote = request.getRemoteAddress();
          if (remote == null) {
            return null;
          }
          return remote.getAddress() != null
              ? remote.getAddress().getHostAddress()
              : remote.getHostString();
        }

        @Override
        public @Nullable String get(@Nullable ServerHttpRequest request, String key) {
          if (request == null) {
            return null;
          }
          return request.getHeaders().getFirst(key);
        }
      };
}
