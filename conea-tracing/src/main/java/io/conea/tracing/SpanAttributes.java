package io.conea.tracing;

import static io.conea.tracing.HttpValues.MAX_LENGTH;
import static io.conea.tracing.HttpValues.truncate;

import io.conea.metrics.internal.HttpMethods;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;
import org.jspecify.annotations.Nullable;

/**
 * A request's span attributes, after the stable HTTP semantic conventions: those relevant for
 * sampling (on the span builder, or on the recording span when the sampler reads none), those only
 * a recorded span needs, and those of the outcome.
 */
final class SpanAttributes {

  /** Where attributes go: a span builder or a started span, which share no interface. */
  interface Target<T> {
    void set(T target, AttributeKey<String> key, String value);

    void set(T target, AttributeKey<Long> key, long value);
  }

  /** Attributes on the span builder, where the sampler sees them. */
  static final Target<SpanBuilder> BUILDER =
      new Target<>() {
        @Override
        public void set(SpanBuilder builder, AttributeKey<String> key, String value) {
          builder.setAttribute(key, value);
        }

        @Override
        public void set(SpanBuilder builder, AttributeKey<Long> key, long value) {
          builder.setAttribute(key, value);
        }
      };

  /** Attributes on a started, recording span. */
  static final Target<Span> SPAN =
      new Target<>() {
        @Override
        public void set(Span span, AttributeKey<String> key, String value) {
          span.setAttribute(key, value);
        }

        @Override
        public void set(Span span, AttributeKey<Long> key, long value) {
          span.setAttribute(key, value);
        }
      };

  private SpanAttributes() {}

  /**
   * Sets the attributes that the stable HTTP semantic conventions name as relevant for sampling,
   * and {@code http.route}.
   */
  static <T, R> void sampling(
      Target<T> to,
      T target,
      R request,
      HttpServerRequestAccessor<R> accessor,
      String method,
      String path,
      @Nullable String route) {
    to.set(target, HttpAttributes.HTTP_REQUEST_METHOD, method);
    to.set(target, UrlAttributes.URL_PATH, path);
    if (route != null) {
      to.set(target, HttpAttributes.HTTP_ROUTE, route);
    }
    String scheme = accessor.scheme(request);
    if (scheme != null) {
      to.set(target, UrlAttributes.URL_SCHEME, truncate(scheme, 16));
    }
    String host = accessor.get(request, "host");
    String serverAddress = HttpValues.hostName(host);
    if (serverAddress != null) {
      to.set(target, ServerAttributes.SERVER_ADDRESS, serverAddress);
      int port = HttpValues.hostPort(host);
      if (port < 0) {
        port = HttpValues.defaultPort(scheme);
      }
      if (port > 0) {
        to.set(target, ServerAttributes.SERVER_PORT, (long) port);
      }
    }
    String query = accessor.query(request);
    if (query != null) {
      to.set(target, UrlAttributes.URL_QUERY, HttpValues.redactQuery(query));
    }
    String userAgent = accessor.get(request, "user-agent");
    if (userAgent != null) {
      to.set(target, UserAgentAttributes.USER_AGENT_ORIGINAL, truncate(userAgent, MAX_LENGTH));
    }
    // The peer address is read once for both attributes, so it goes where client.address goes.
    String peer = truncate(accessor.peerAddress(request), 255);
    String client = HttpValues.firstForwardedFor(accessor.get(request, "x-forwarded-for"));
    if (client != null || peer != null) {
      to.set(target, ClientAttributes.CLIENT_ADDRESS, client != null ? client : peer);
    }
    if (peer != null) {
      to.set(target, NetworkAttributes.NETWORK_PEER_ADDRESS, peer);
    }
  }

  /** Sets the attributes no sampler needs, on a recording span only. */
  static <R> void recorded(
      Span span,
      R request,
      HttpServerRequestAccessor<R> accessor,
      @Nullable String rawMethod,
      String method) {
    if (method == HttpMethods.OTHER && rawMethod != null) {
      span.setAttribute(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL, truncate(rawMethod, 64));
    }
    String version = HttpValues.protocolVersion(accessor.protocol(request));
    if (version != null) {
      span.setAttribute(NetworkAttributes.NETWORK_PROTOCOL_VERSION, version);
    }
  }

  /**
   * Sets the outcome of an ended request on its recording span: the status sent, and for 5xx
   * responses, exceptions and connections the server closed without answering the error type and
   * status. 4xx responses are no error of the server.
   */
  static void outcome(Span span, TracedRequest request) {
    int status = request.status();
    boolean statusSent = request.statusSent();
    Throwable error = request.error;
    String errorType = request.errorType();
    if (statusSent) {
      span.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
    }
    if (error != null) {
      span.recordException(error);
      span.setAttribute(ErrorAttributes.ERROR_TYPE, error.getClass().getName());
      span.setStatus(StatusCode.ERROR, truncate(error.getMessage(), MAX_LENGTH));
    } else if (errorType != null) {
      span.setAttribute(ErrorAttributes.ERROR_TYPE, errorType);
      // A connection the server's side closed without answering is the server's failure.
      if ((statusSent || request.closedByServer()) && status >= 500) {
        span.setStatus(StatusCode.ERROR);
      }
    } else if (status >= 500) {
      span.setAttribute(ErrorAttributes.ERROR_TYPE, Integer.toString(status));
      span.setStatus(StatusCode.ERROR);
    }
  }
}
