package io.conea.tracing.netty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.Await;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.KeepAliveClient;
import io.conea.tracing.KeepAliveClient.End;
import io.conea.tracing.RawHttp;
import io.conea.tracing.RawResponse;
import io.conea.tracing.TestTelemetry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Graceful shutdown of a real Netty server on loopback, with raw-socket keep-alive clients that
 * tell a complete response from one cut off.
 */
class NettyDrainTest {

  private static EventLoopGroup group;

  private TestTelemetry telemetry;
  private NettyDrain drain;
  private Channel server;
  private int port;

  @BeforeAll
  @SuppressWarnings("deprecation") // NioEventLoopGroup is what Netty 4.1 and 4.2 both have
  static void startLoops() {
    group = new NioEventLoopGroup(2);
  }

  @AfterAll
  static void stopLoops() throws InterruptedException {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @BeforeEach
  void startServer() throws InterruptedException {
    telemetry = TestTelemetry.alwaysOn();
    HttpServerTracing tracing = HttpServerTracing.create(telemetry.api(), telemetry.metrics);
    drain = NettyDrain.create();
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    channel
                        .pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(ConeaTracingHandler.create(tracing, drain))
                        .addLast(new Work());
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
    port = ((InetSocketAddress) server.localAddress()).getPort();
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    server.close().sync();
    telemetry.close();
  }

  /** As a host does on SIGTERM: stop accepting, then drain. */
  private NettyDrain.Result shutDown(Duration bound) throws InterruptedException {
    stopAccepting();
    return drain.drain(bound);
  }

  private void stopAccepting() throws InterruptedException {
    NettyDrain.closeListeners(server);
    Await.until(this::refused);
  }

  /** Whether the port refuses connections (the listener's socket is released). */
  private boolean refused() {
    try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return !probe.isConnected();
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void keepAliveClientsUnderLoadLoseNoAcceptedRequestAndTheDrainEndsWithinItsBound()
      throws Exception {
    int clients = 16;
    ExecutorService threads = Executors.newFixedThreadPool(clients);
    List<LoopingClient> looping = new ArrayList<>();
    List<Future<?>> running = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        // Every fourth client's requests take 200 ms: those are in flight when the drain starts.
        LoopingClient client = new LoopingClient(port, i % 4 == 0 ? 200 : 0);
        looping.add(client);
        running.add(threads.submit(client));
      }
      Await.until(() -> looping.stream().allMatch(c -> c.complete >= 3));

      long started = System.nanoTime();
      NettyDrain.Result result = shutDown(Duration.ofSeconds(3));
      long drainMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      for (Future<?> client : running) {
        client.get(10, TimeUnit.SECONDS);
      }

      int answered = looping.stream().mapToInt(c -> c.complete).sum();
      assertThat(looping).allSatisfy(c -> assertThat(c.broken).as("client failure").isNull());
      assertThat(looping)
          .allSatisfy(
              c -> assertThat(c.end).isIn(End.CLOSED_AFTER_CONNECTION_CLOSE, End.IDLE_CLOSED));
      // Whoever tries again after its connection ended finds the port closed.
      assertThat(looping).allSatisfy(c -> assertThat(c.refusedAfterwards).isTrue());
      // The slow clients had a request in flight: answered, and told the connection closes.
      assertThat(looping.stream().filter(c -> c.delayMillis > 0))
          .allSatisfy(c -> assertThat(c.end).isEqualTo(End.CLOSED_AFTER_CONNECTION_CLOSE));
      assertThat(result.inFlightAtStart()).as("requests in flight at the start").isPositive();
      assertThat(result.abandoned()).isZero();
      assertThat(result.forcedCloses()).isZero();
      assertThat(drainMillis).isLessThan(3_000);
      assertThat(result.elapsed()).isLessThan(Duration.ofSeconds(3));
      assertThat(drain.openConnections()).isZero();

      // Every request the server read was answered in full: none was cut off after it was
      // accepted, and none was sent onto a connection the drain closed.
      Await.until(() -> telemetry.totalRequests() == answered);
      assertThat(telemetry.scrape()).doesNotContain("status=\"499\"");
      assertThat(telemetry.requests("GET", "/work", "200")).isEqualTo(answered);
      System.out.printf(
          Locale.ROOT,
          "drain under load: %d requests answered, %d in flight at start, 0 of %d accepted"
              + " requests dropped, %d idle closes, %d requests sent and not answered, drain took"
              + " %d ms%n",
          answered,
          result.inFlightAtStart(),
          answered,
          result.idleClosed(),
          looping.stream().filter(c -> c.end == End.NOT_ACCEPTED).count(),
          drainMillis);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void idleKeepAliveConnectionsCloseAtOnceWhileARequestInFlightIsAnsweredWithConnectionClose()
      throws Exception {
    List<Socket> idle = new ArrayList<>();
    try (Socket slow = connect()) {
      for (int i = 0; i < 5; i++) {
        Socket socket = connect();
        idle.add(socket);
        RawHttp.get(socket, "/work?ms=0");
        assertThat(RawResponse.read(socket.getInputStream(), false).status()).isEqualTo(200);
      }
      RawHttp.get(slow, "/work?ms=800");
      Await.until(() -> telemetry.finishedSpans().size() == 5 && drain.openConnections() == 6);
      Thread.sleep(50); // the slow request has been read

      stopAccepting();
      long started = System.nanoTime();
      CompletableFuture<NettyDrain.Result> draining = drainAsync(Duration.ofSeconds(5));
      for (Socket socket : idle) {
        assertThat(socket.getInputStream().read()).as("idle connection closed").isEqualTo(-1);
      }
      long idleClosedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      RawResponse answer = RawResponse.read(slow.getInputStream(), false);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.connectionClose()).isTrue();
      assertThat(slow.getInputStream().read()).isEqualTo(-1);
      NettyDrain.Result result = draining.get(10, TimeUnit.SECONDS);

      assertThat(idleClosedMillis)
          .as("idle connections closed after the grace")
          .isBetween(NettyDrain.IDLE_GRACE_MILLIS, 500L);
      assertThat(result.idleClosed()).isEqualTo(5);
      assertThat(result.inFlightAtStart()).isEqualTo(1);
      assertThat(result.completed()).isEqualTo(1);
      assertThat(result.forcedCloses()).isZero();
      assertThat(result.elapsed()).isLessThan(Duration.ofSeconds(5));
      Await.until(() -> telemetry.requests("GET", "/work", "200") == 6);
    } finally {
      for (Socket socket : idle) {
        socket.close();
      }
    }
  }

  @Test
  void connectionAcceptedBeforeTheListenerClosedGetsItsFirstAnswerWithConnectionClose()
      throws Exception {
    try (Socket fresh = connect()) {
      Await.until(() -> drain.openConnections() == 1);
      stopAccepting();
      CompletableFuture<NettyDrain.Result> draining = drainAsync(Duration.ofSeconds(5));
      Await.until(drain::isDraining);
      RawHttp.get(fresh, "/work?ms=0");
      RawResponse answer = RawResponse.read(fresh.getInputStream(), false);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.connectionClose()).isTrue();
      assertThat(fresh.getInputStream().read()).isEqualTo(-1);
      NettyDrain.Result result = draining.get(10, TimeUnit.SECONDS);
      assertThat(result.completed()).isEqualTo(1);
      assertThat(result.idleClosed()).isZero();
    }
  }

  @Test
  void requestsStillInFlightAtTheBoundAreClosedAndCountedAs499() throws Exception {
    try (Socket stuck = connect()) {
      RawHttp.get(stuck, "/never");
      Await.until(() -> drain.openConnections() == 1);
      Thread.sleep(50); // read by the server

      NettyDrain.Result result = shutDown(Duration.ofMillis(300));

      assertThat(result.forcedCloses()).isEqualTo(1);
      assertThat(result.abandoned()).isEqualTo(1);
      assertThat(result.elapsed())
          .isGreaterThanOrEqualTo(Duration.ofMillis(300))
          .isLessThan(Duration.ofMillis(300 + 500));
      assertThat(stuck.getInputStream().read()).isEqualTo(-1);
      SpanData span = telemetry.awaitSpans(1).get(0);
      assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
          .isEqualTo("connection_closed");
      Await.until(() -> telemetry.requests("GET", "/never", "499") == 1);
      // A second call reports the same drain.
      assertThat(drain.drain(Duration.ofSeconds(1))).isEqualTo(result);
    }
  }

  private CompletableFuture<NettyDrain.Result> drainAsync(Duration bound) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return drain.drain(bound);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(5_000);
    return socket;
  }

  /** A keep-alive client of {@code /work?ms=delayMillis}. */
  private static final class LoopingClient extends KeepAliveClient {
    final int delayMillis;

    LoopingClient(int port, int delayMillis) {
      super(port, "/work?ms=" + delayMillis, 5_000, false);
      this.delayMillis = delayMillis;
    }

    /**
     * A failed send, or a reset before the first byte of the answer, is the end of the connection
     * (as an EOF before the response); any other failure is the client's.
     */
    @Override
    protected @Nullable RawResponse exchange(Socket socket) throws IOException {
      try {
        RawHttp.get(socket, target);
      } catch (SocketException e) {
        return null;
      }
      try {
        return RawResponse.read(socket.getInputStream(), false);
      } catch (SocketException reset) {
        if (reset.getMessage() == null || !reset.getMessage().contains("reset")) {
          throw reset;
        }
        return null;
      }
    }
  }

  /** Answers {@code /work?ms=N} after N ms; never answers {@code /never}. */
  private static final class Work extends ChannelInboundHandlerAdapter {
    private String uri;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest) {
          uri = ((HttpRequest) msg).uri();
        }
        if (msg instanceof LastHttpContent && uri.startsWith("/work")) {
          long delay = Long.parseLong(uri.substring(uri.indexOf('=') + 1));
          if (delay == 0) {
            answer(ctx);
          } else {
            ctx.executor().schedule(() -> answer(ctx), delay, TimeUnit.MILLISECONDS);
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private static void answer(ChannelHandlerContext ctx) {
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("ok", US_ASCII));
      response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
      ctx.writeAndFlush(response);
    }
  }
}
