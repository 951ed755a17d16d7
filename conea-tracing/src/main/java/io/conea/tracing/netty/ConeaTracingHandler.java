package io.conea.tracing.netty;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.RequestTargets;
import io.conea.tracing.HttpServerRequestAccessor;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.opentelemetry.context.Scope;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * A Netty 4.2 handler that traces, counts and log-correlates every HTTP request of a connection; a
 * thin adapter over {@link HttpServerTracing}.
 *
 * <p>Place one new instance per channel right after the {@code HttpServerCodec}, before any
 * aggregator and the application's handlers:
 *
 * <pre>{@code
 * protected void initChannel(SocketChannel channel) {
 *   channel.pipeline()
 *       .addLast(new HttpServerCodec())
 *       .addLast(ConeaTracingHandler.create(httpServerTracing))
 *       .addLast(new HttpObjectAggregator(1 << 20))
 *       .addLast(new ApplicationHandler());
 * }
 * }</pre>
 *
 * <p>Each request of a keep-alive or pipelining connection gets its own span and parent context;
 * responses are matched to requests first in, first out. A request ends when its {@link
 * LastHttpContent} is written (a full response, the last chunk of a chunked one, or the empty last
 * content after a HEAD, 204 or 304 response); interim 1xx responses other than 101 do not end it.
 * While the handlers after this one read a request ({@code channelRead}), its span and MDC values
 * are current on the event loop: made current once for the messages of the request that one read
 * delivers (its head and content chunks), and cleared before {@code channelReadComplete}, the next
 * request's first message or anything else is passed on.
 *
 * <p>When the connection closes before a response completes, the request is still counted and its
 * span ended, with the status already sent or 499 ("client closed request", not a 5xx) when none
 * was, and {@code error.type=connection_closed}: see {@link TracedRequest#endConnectionClosed()}.
 * When the handler leaves the pipeline of a live connection, the requests in flight end with the
 * status already sent or, when none was, as status {@code _OTHER}: see {@link
 * TracedRequest#endUnobserved()}.
 *
 * <p>Past {@link HttpServerTracing#maxPendingRequestsPerConnection()} pipelined requests in flight,
 * further ones are counted but not traced; at four times that bound (256 by default), the handler
 * stops reading from the connection ({@code autoRead} off) until the responses have brought the
 * requests in flight back to the traced bound. A client that pipelines without reading thus waits,
 * as for a slow server, and no request is dropped or left uncounted; the queue holds at most the
 * pause bound plus the requests the codec had already decoded from the last read. The handler turns
 * {@code autoRead} back on only when it turned it off itself.
 *
 * <p>The handler also feeds {@code tcp_connections{state="established"}}.
 *
 * <p>The handler is not {@link io.netty.channel.ChannelHandler.Sharable}: it holds the connection's
 * requests in flight.
 */
public final class ConeaTracingHandler extends ChannelDuplexHandler {

  /** How many times the traced bound may be in flight before the handler stops reading. */
  static final int PAUSE_FACTOR = 4;

  private final HttpServerTracing tracing;
  private final int maxTraced;
  private final int pauseAt;
  private final ArrayDeque<TracedRequest> pending = new ArrayDeque<>(4);
  private @Nullable TracedRequest reading;
  private @Nullable HttpRequest readingRequest;
  private @Nullable ChannelHandlerContext context;
  private @Nullable String peerAddress;
  private boolean counted;
  private boolean readingPaused;
  private @Nullable TracedRequest scoped;
  private @Nullable Scope readScope;
  private boolean dispatching;

  ConeaTracingHandler(HttpServerTracing tracing) {
    this.tracing = tracing;
    this.maxTraced = tracing.maxPendingRequestsPerConnection();
    this.pauseAt = (int) Math.min(Integer.MAX_VALUE, (long) PAUSE_FACTOR * maxTraced);
  }

  /** Returns a handler for one channel. */
  public static ConeaTracingHandler create(HttpServerTracing tracing) {
    Compatibility.require(ConeaTracingHandler.class, Compatibility.NETTY);
    return new ConeaTracingHandler(requireNonNull(tracing, "tracing"));
  }

  /** Counts the connection when the handler joins a channel that is already active. */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.context = ctx;
    if (ctx.channel().isActive()) {
      opened();
    }
  }

  /** Counts the connection as established. */
  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    opened();
    super.channelActive(ctx);
  }

  /** Ends the requests still in flight, then counts the connection as closed. */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (!dispatching) {
      closeReadScope();
    }
    closed();
    super.channelInactive(ctx);
  }

  /**
   * Ends the requests still in flight when the handler leaves the pipeline (after a protocol
   * upgrade, say): on a live connection with {@link TracedRequest#endUnobserved()}, as their
   * responses may still complete unseen; on a closed one with {@link
   * TracedRequest#endConnectionClosed()}. The connection stays counted until it closes.
   */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (!dispatching) {
      // Removed during a read, the scope closes once the next handlers return, so that scopes
      // they opened inside it close first.
      closeReadScope();
    }
    if (counted && ctx.channel().isActive()) {
      counted = false;
      TracedRequest request;
      while ((request = pending.pollFirst()) != null) {
        request.endUnobserved();
      }
      reading = null;
      if (readingPaused) {
        resumeReading(ctx);
      }
      ctx.channel().closeFuture().addListener(future -> tracing.connectionClosed());
      return;
    }
    closed();
  }

  /**
   * Starts a request on its {@link HttpRequest} and makes its context current while the next
   * handlers read the request and its content.
   */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest) {
      readingRequest = (HttpRequest) msg;
      try {
        reading =
            pending.size() < maxTraced
                ? tracing.start(this, ACCESSOR)
                : tracing.startUntraced(this, ACCESSOR);
      } finally {
        readingRequest = null;
      }
      pending.addLast(reading);
      if (pending.size() >= pauseAt && !readingPaused && ctx.channel().config().isAutoRead()) {
        // Backpressure instead of an unbounded queue or a dropped connection: every request
        // read stays counted, and the client waits for responses as it would for a slow server.
        readingPaused = true;
        ctx.channel().config().setAutoRead(false);
      }
    }
    TracedRequest current = reading;
    if (msg instanceof LastHttpContent) {
      reading = null;
    }
    if (current != scoped) {
      closeReadScope();
      if (current != null) {
        readScope = current.makeCurrent();
        scoped = current;
      }
    }
    dispatching = true;
    try {
      ctx.fireChannelRead(msg);
    } finally {
      dispatching = false;
    }
    if (ctx.isRemoved() || !ctx.channel().isActive()) {
      closeReadScope();
    }
  }

  /**
   * Clears the context and MDC values of the request read last before the end of the read is passed
   * on, so that nothing carries over to the event loop's next task.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    closeReadScope();
    super.channelReadComplete(ctx);
  }

  private void closeReadScope() {
    if (scoped != null) {
      scoped = null;
      Scope scope = readScope;
      readScope = null;
      scope.close();
    }
  }

  /**
   * Notes the status of a response and ends the oldest request in flight on its {@link
   * LastHttpContent}, before passing the write on.
   */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    boolean interim = false;
    if (msg instanceof HttpResponse) {
      int status = statusCode((HttpResponse) msg);
      interim = status >= 100 && status < 200 && status != 101;
      TracedRequest head = pending.peekFirst();
      if (!interim && head != null) {
        head.responseStatus(status);
      }
    }
    if (!interim && msg instanceof LastHttpContent) {
      TracedRequest head = pending.pollFirst();
      if (head != null) {
        head.end(head.responseStatus() > 0 ? head.responseStatus() : 200, null, null);
      }
      if (readingPaused && pending.size() <= maxTraced) {
        resumeReading(ctx);
      }
    }
    ctx.write(msg, promise);
  }

  private void resumeReading(ChannelHandlerContext ctx) {
    readingPaused = false;
    ctx.channel().config().setAutoRead(true);
  }

  private static int statusCode(HttpResponse response) {
    HttpResponseStatus status = response.status();
    return status == null ? 0 : status.code();
  }

  private void opened() {
    if (!counted) {
      counted = true;
      tracing.connectionOpened();
    }
  }

  private void closed() {
    endPending();
    if (counted) {
      counted = false;
      tracing.connectionClosed();
    }
  }

  private void endPending() {
    TracedRequest request;
    while ((request = pending.pollFirst()) != null) {
      request.endConnectionClosed();
    }
    reading = null;
  }

  private String peerAddress() {
    if (peerAddress == null && context != null) {
      SocketAddress remote = context.channel().remoteAddress();
      if (remote instanceof InetSocketAddress) {
        InetSocketAddress inet = (InetSocketAddress) remote;
        peerAddress =
            inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
      }
    }
    return peerAddress;
  }

  private String scheme() {
    return context != null && context.pipeline().get(SslHandler.class) != null ? "https" : "http";
  }

  /** Reads the request being started; the handler itself is the carrier, so nothing is copied. */
  private static final HttpServerRequestAccessor<ConeaTracingHandler> ACCESSOR =
      new HttpServerRequestAccessor<>() {
        @Override
        public String method(ConeaTracingHandler handler) {
          return handler.readingRequest.method().name();
        }

        @Override
        public String path(ConeaTracingHandler handler) {
          return RequestTargets.path(handler.readingRequest.uri());
        }

        @Override
        public String query(ConeaTracingHandler handler) {
          return RequestTargets.query(handler.readingRequest.uri());
        }

        @Override
        public String scheme(ConeaTracingHandler handler) {
          return handler.scheme();
        }

        @Override
        public String protocol(ConeaTracingHandler handler) {
          return handler.readingRequest.protocolVersion().text();
        }

        @Override
        public String peerAddress(ConeaTracingHandler handler) {
          return handler.peerAddress();
        }

        @Override
        public String get(ConeaTracingHandler handler, String key) {
          return handler == null || handler.readingRequest == null
              ? null
              : handler.readingRequest.headers().get(key);
        }
      };
}
