package io.conea.tracing.netty;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.RequestTargets;
import io.conea.tracing.HttpServerRequestAccessor;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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
 * That includes a request whose headers the close cut off (the codec passes it on with a {@code
 * PrematureChannelClosureException} as its decoder result) and any request answered only after its
 * connection closed: the 400 an application writes for the cut-off request never reaches the
 * client, so it is not what the request is counted with. When the server's side closes the live
 * connection instead (an application that closes it after an exception rather than answering), the
 * requests in flight are counted with the status already sent or 500, with {@code
 * error.type=connection_closed_by_server}: see {@link TracedRequest#endClosedByServer()}; a close
 * that follows an I/O failure of the connection (a reset) is the client's, and {@link NettyDrain}'s
 * close at its bound keeps 499.
 *
 * <p>Created with a {@link NettyDrain}, the handler takes part in that drain's graceful shutdown:
 * see {@link #create(HttpServerTracing, NettyDrain)}. When the handler leaves the pipeline of a
 * live connection, the requests in flight end with the status already sent or, when none was, as
 * status {@code _OTHER}: see {@link TracedRequest#endUnobserved()}.
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
  private final @Nullable NettyDrain drain;

  /** How many requests have been read on this connection: a drain's idle check compares it. */
  private long reads;

  /** Whether the connection closes once the responses in flight are written (during a drain). */
  private boolean closeWhenAnswered;

  /** The request the closing of its connection cut off while it was read; never answered. */
  private @Nullable TracedRequest cutOff;

  /** Whether the client's side failed (a reset, a broken pipe): a close that follows is theirs. */
  private boolean peerFailed;

  /** Whether the server's side closed the live connection: requests in flight end as 500. */
  private boolean closedByServer;

  ConeaTracingHandler(HttpServerTracing tracing, @Nullable NettyDrain drain) {
    this.tracing = tracing;
    this.drain = drain;
    this.maxTraced = tracing.maxPendingRequestsPerConnection();
    this.pauseAt = (int) Math.min(Integer.MAX_VALUE, (long) PAUSE_FACTOR * maxTraced);
  }

  /** Returns a handler for one channel. */
  public static ConeaTracingHandler create(HttpServerTracing tracing) {
    Compatibility.require(ConeaTracingHandler.class, Compatibility.NETTY);
    return new ConeaTracingHandler(requireNonNull(tracing, "tracing"), null);
  }

  /**
   * Returns a handler for one channel that takes part in the given drain: once {@link
   * NettyDrain#drain(Duration)} starts, the connection closes after the response to its last
   * request in flight, which carries {@code Connection: close}, or, when it has nothing in flight
   * and receives no request within {@link NettyDrain#IDLE_GRACE_MILLIS}, as idle. See {@link
   * NettyDrain}.
   */
  public static ConeaTracingHandler create(HttpServerTracing tracing, NettyDrain drain) {
    Compatibility.require(ConeaTracingHandler.class, Compatibility.NETTY);
    return new ConeaTracingHandler(
        requireNonNull(tracing, "tracing"), requireNonNull(drain, "drain"));
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

  /** Notes an I/O failure of the connection: the client reset it or went away. */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (cause instanceof IOException) {
      peerFailed = true;
    }
    super.exceptionCaught(ctx, cause);
  }

  /**
   * Notes a close that the server's side asks for on a live connection, other than after an I/O
   * failure: the requests still in flight then end with {@link TracedRequest#endClosedByServer()}.
   */
  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
    if (!peerFailed && !pending.isEmpty() && ctx.channel().isActive()) {
      closedByServer = true;
    }
    super.close(ctx, promise);
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
      if (drain != null) {
        drain.unregister(this);
      }
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
      reads++;
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
    if (current != null && msg instanceof DecoderResultProvider && cutOffByClose(msg)) {
      cutOff = current;
    }
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

  /** Whether the codec passed the message on because the connection closed in the middle of it. */
  private static boolean cutOffByClose(Object msg) {
    DecoderResult result = ((DecoderResultProvider) msg).decoderResult();
    return result != null
        && result.isFailure()
        && result.cause() instanceof PrematureChannelClosureException;
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
      if (!interim && head != null && head != cutOff && ctx.channel().isActive()) {
        head.responseStatus(status);
      }
      if (!interim && drain != null && drain.draining && pending.size() <= 1) {
        closeAfterThisResponse((HttpResponse) msg);
      }
    }
    if (!interim && msg instanceof LastHttpContent) {
      TracedRequest head = pending.pollFirst();
      if (head != null) {
        if (head == cutOff || !ctx.channel().isActive()) {
          // Whatever the application answers, it does not reach the client.
          endClosed(head);
        } else {
          head.end(head.responseStatus() > 0 ? head.responseStatus() : 200, null, null);
        }
        if (drain != null && drain.draining) {
          drain.completed.increment();
        }
      }
      if (readingPaused && pending.size() <= maxTraced) {
        resumeReading(ctx);
      }
      if (closeWhenAnswered && pending.isEmpty()) {
        ChannelPromise written = promise.unvoid();
        ctx.write(msg, written);
        written.addListener(ChannelFutureListener.CLOSE);
        return;
      }
    }
    ctx.write(msg, promise);
  }

  /**
   * Marks the response to the last request in flight of a draining connection: the client learns
   * that the connection closes after it, and it does once the response is written.
   */
  private void closeAfterThisResponse(HttpResponse response) {
    closeWhenAnswered = true;
    try {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } catch (RuntimeException readOnlyHeaders) {
      // The connection still closes after the response, as a client must expect of HTTP/1.1.
    }
  }

  /**
   * Starts draining this connection on its event loop: its last response in flight closes it, and
   * when none is in flight and no request comes within the idle grace, it is closed as idle.
   * Returns the task, or null when there is no connection to drain.
   */
  @Nullable Future<?> startDrain() {
    return onEventLoop(
        () -> {
          NettyDrain owner = drain;
          ChannelHandlerContext ctx = context;
          if (owner == null || ctx == null || !counted || ctx.isRemoved()) {
            return;
          }
          owner.inFlightAtStart.addAndGet(pending.size());
          closeWhenAnswered = true;
          if (pending.isEmpty()) {
            long readsAtStart = reads;
            ctx.executor()
                .schedule(
                    () -> closeIfStillIdle(owner, ctx, readsAtStart),
                    NettyDrain.IDLE_GRACE_MILLIS,
                    TimeUnit.MILLISECONDS);
          }
        });
  }

  private void closeIfStillIdle(NettyDrain owner, ChannelHandlerContext ctx, long readsAtStart) {
    if (counted && !ctx.isRemoved() && pending.isEmpty() && reads == readsAtStart) {
      owner.idleClosed.incrementAndGet();
      // Flushes what the connection was still writing before closing it.
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Closes this connection at the drain's bound, whatever is in flight; null when none. */
  @Nullable Future<?> forceClose() {
    return onEventLoop(
        () -> {
          NettyDrain owner = drain;
          ChannelHandlerContext ctx = context;
          if (owner == null || ctx == null || !counted) {
            return;
          }
          owner.abandoned.addAndGet(pending.size());
          // From this handler's place: the close does not pass its own close(), so the requests
          // in flight stay the client's 499, not a server failure.
          ctx.close();
        });
  }

  private @Nullable Future<?> onEventLoop(Runnable task) {
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      return null;
    }
    try {
      return ctx.executor().submit(task);
    } catch (RejectedExecutionException e) {
      // The event loop has stopped: its channels are closed.
      if (drain != null) {
        drain.unregister(this);
      }
      return null;
    }
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
      if (drain != null) {
        drain.register(this);
      }
    }
  }

  private void closed() {
    endPending();
    if (counted) {
      counted = false;
      tracing.connectionClosed();
      if (drain != null) {
        drain.unregister(this);
      }
    }
  }

  private void endPending() {
    TracedRequest request;
    while ((request = pending.pollFirst()) != null) {
      endClosed(request);
    }
    reading = null;
  }

  /** Ends a request whose connection closed before its response: by the server's side, or not. */
  private void endClosed(TracedRequest request) {
    if (closedByServer && request != cutOff) {
      request.endClosedByServer();
    } else {
      request.endConnectionClosed();
    }
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
