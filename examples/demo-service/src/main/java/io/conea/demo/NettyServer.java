package io.conea.demo;

import io.conea.tracing.netty.NettyDrain;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The demo's Netty server: HTTP/1.1 codec, instrumentation, aggregation, then the API. */
final class NettyServer {

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final String host;
  private final int requestedPort;
  private final DemoApi api;
  private final Supplier<ChannelHandler> instrumentation;
  private final NettyDrain drain;
  private Channel serverChannel;

  /**
   * @param instrumentation makes each connection's instrumentation handler, which takes part in the
   *     drain
   */
  NettyServer(
      String host,
      int port,
      DemoApi api,
      Supplier<ChannelHandler> instrumentation,
      NettyDrain drain) {
    this.host = host;
    this.requestedPort = port;
    this.api = api;
    this.instrumentation = instrumentation;
    this.drain = drain;
  }

  void start() throws InterruptedException {
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    channel
                        .pipeline()
                        .addLast("codec", new HttpServerCodec())
                        .addLast("keep-alive", new HttpServerKeepAliveHandler())
                        .addLast("conea", instrumentation.get())
                        .addLast("aggregator", new HttpObjectAggregator(DemoServlet.MAX_BODY_BYTES))
                        .addLast("api", new DemoNettyHandler(api));
                  }
                });
    serverChannel = bootstrap.bind(host, requestedPort).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Stops accepting: returns once new connections are refused. */
  void stopAccepting() throws InterruptedException {
    if (serverChannel != null) {
      int port = port();
      NettyDrain.closeListeners(serverChannel);
      Ports.awaitRefused(host, port);
    }
  }

  /**
   * Answers the requests in flight with Connection: close, closes idle connections, and closes what
   * is left at the bound.
   */
  NettyDrain.Result drain(Duration bound) throws InterruptedException {
    return drain.drain(bound);
  }

  /** Stops the event loops; the connections are closed by then. */
  void stopLoops() throws InterruptedException {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
  }
}
