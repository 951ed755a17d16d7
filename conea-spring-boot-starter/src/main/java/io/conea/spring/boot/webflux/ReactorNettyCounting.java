package io.conea.spring.boot.webflux;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerTracing;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/**
 * Counts, on a Reactor Netty server, the HTTP/1.1 requests answered before {@link ConeaWebFilter}
 * started them, so that every request the server answers is counted once, with the status sent.
 *
 * <p>Reactor Netty answers some requests without running any {@code WebFilter}: a request line or
 * header it cannot decode (400), a request line longer than its limit (414, 4096 bytes by default),
 * a header block longer than its limit (431, 8 KB by default), a path it cannot decode (400);
 * Spring's adapter answers 400 to a URI that {@link java.net.URI} rejects, such as {@code /%zz}. A
 * handler after Reactor Netty's HTTP codec notes each request as it arrives and, when its response
 * goes out, counts it with {@link HttpServerTracing#recordUnstarted} (endpoint {@code _OTHER}, or
 * {@code NOT_FOUND} for a 404) unless the filter marked it started. A request whose head could not
 * be decoded is counted with the method {@code _OTHER}: Netty replaces it with a placeholder
 * ({@code GET /bad-request}).
 *
 * <pre>{@code
 * HttpServer server =
 *     ReactorNettyCounting.install(HttpServer.create().port(8080), httpServerTracing)
 *         .handle(new ReactorHttpHandlerAdapter(webHandlerWithConeaWebFilter));
 * }</pre>
 *
 * <p>Limits: only HTTP/1.1 connections whose codec is in the pipeline when they open (cleartext,
 * and TLS without ALPN negotiation); HTTP/2 is not watched; a connection with more than {@value
 * #MAX_PENDING} requests pipelined and unanswered is no longer watched; a request the client closed
 * before any response is not counted here (the filter counts the ones it started as 499). Nothing
 * here throws into Reactor Netty or the application: failures are contained and logged once.
 */
public final class ReactorNettyCounting {

  /** The name of the handler in each connection's pipeline. */
  static final String HANDLER_NAME = "conea.unstartedRequestCounter";

  /** The most requests one connection may have unanswered and still be watched. */
  static final int MAX_PENDING = 64;

  /** The URI of the placeholder request Netty decodes a malformed request head into. */
  private static final String BAD_REQUEST_PLACEHOLDER = "/bad-request";

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();

  private ReactorNettyCounting() {}

  /**
   * Returns {@code server} with a counting handler in the pipeline of each connection it accepts;
   * {@link ConeaWebFilter} must be in the WebFlux chain the server hands its requests to.
   */
  public static HttpServer install(HttpServer server, HttpServerTracing tracing) {
    requireNonNull(server, "server");
    requireNonNull(tracing, "tracing");
    return server.doOnChannelInit((observer, channel, remoteAddress) -> addTo(channel, tracing));
  }

  private static void addTo(Channel channel, HttpServerTracing tracing) {
    try {
      ChannelPipeline pipeline = channel.pipeline();
      if (pipeline.get(NettyPipeline.HttpCodec) == null || pipeline.get(HANDLER_NAME) != null) {
        return;
      }
      pipeline.addAfter(NettyPipeline.HttpCodec, HANDLER_NAME, new UnstartedRequests(tracing));
    } catch (RuntimeException | LinkageError e) {
      report("add its request counting to a Reactor Netty connection", e);
    }
  }

  /**
   * Notes that the filter started the request being served on {@code request}'s connection; called
   * by {@link ConeaWebFilter}, only when Reactor Netty is present. Never throws.
   */
  static void markStarted(ServerHttpRequest request) {
    try {
      Object nativeRequest = ServerHttpRequestDecorator.getNativeRequest(request);
      if (nativeRequest instanceof Connection) {
        ChannelHandler handler =
            ((Connection) nativeRequest).channel().pipeline().get(HANDLER_NAME);
        if (handler instanceof UnstartedRequests) {
          ((UnstartedRequests) handler).started();
        }
      }
    } catch (IllegalArgumentException e) {
      // Not a server request (a test's mock exchange): there is no connection to mark.
    } catch (RuntimeException | LinkageError e) {
      report("note a request on its Reactor Netty connection", e);
    }
  }

  private static void report(String what, Throwable e) {
    PROBLEMS.report(
        LOGGER,
        what,
        "conea could not "
            + what
            + "; requests Reactor Netty rejects may go uncounted. Later failures of this kind are"
            + " logged at debug level.",
        e);
  }

  /** One connection's requests in arrival order, until each is answered. */
  static final class UnstartedRequests extends ChannelDuplexHandler {

    private final HttpServerTracing tracing;
    // Guarded by this: the filter may mark from a thread other than the connection's.
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean overflowed;

    UnstartedRequests(HttpServerTracing tracing) {
      this.tracing = tracing;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest) {
        arrived((HttpRequest) msg);
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      if (msg instanceof HttpResponse) {
        answered((HttpResponse) msg);
      }
      super.write(ctx, msg, promise);
    }

    private void arrived(HttpRequest request) {
      try {
        long now = System.nanoTime();
        boolean placeholder =
            request.decoderResult().isFailure() && BAD_REQUEST_PLACEHOLDER.equals(request.uri());
        String method = placeholder ? null : request.method().name();
        String path = placeholder ? null : path(request.uri());
        synchronized (this) {
          if (overflowed) {
            return;
          }
          if (pending.size() >= MAX_PENDING) {
            // Answers could no longer be matched to their requests.
            overflowed = true;
            pending.clear();
            return;
          }
          pending.add(new Pending(now, method, path));
        }
      } catch (RuntimeException | LinkageError e) {
        report("note a request Reactor Netty received", e);
      }
    }

    /** Marks the oldest unanswered request: Reactor Netty serves one request at a time. */
    synchronized void started() {
      Pending head = pending.peek();
      if (head != null) {
        head.started = true;
      }
    }

    private void answered(HttpResponse response) {
      try {
        int status = response.status().code();
        if (status < 200) {
          return; // 100 Continue, 101 Switching Protocols: the final answer is still to come
        }
        Pending answered;
        synchronized (this) {
          answered = pending.poll();
          if (answered == null || answered.started) {
            return;
          }
        }
        tracing.recordUnstarted(
            answered.method, answered.path, status, System.nanoTime() - answered.startNanos);
      } catch (RuntimeException | LinkageError e) {
        report("count a response Reactor Netty sent", e);
      }
    }

    private static String path(String uri) {
      int query = uri.indexOf('?');
      return query < 0 ? uri : uri.substring(0, query);
    }
  }

  /** A request not yet answered. */
  private static final class Pending {
    final long startNanos;
    final @Nullable String method;
    final @Nullable String path;
    boolean started; // guarded by the UnstartedRequests that holds it

    Pending(long startNanos, @Nullable String method, @Nullable String path) {
      this.startNanos = startNanos;
      this.path = path;
      this.method = method;
    }
  }
}
