package io.conea.demo;

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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The demo's Netty server: HTTP/1.1 codec, instrumentation, aggregation, then the API. */
final class NettyServer {

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final DemoNettyHandler.InFlight inFlight = new DemoNettyHandler.InFlight();
  private final String host;
  private final int requestedPort;
  private final DemoApi api;
  private final Supplier<ChannelHandler> instrumentation;
  private Channel serverChannel;

  NettyServer(String host, int port, DemoApi api, Supplier<ChannelHandler> instrumentation) {
    this.host = host;
    this.requestedPort = port;
    this.api = api;
    this.instrumentation = instrumentation;
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
                        .addLast("api", new DemoNettyHandler(api, inFlight));
                  }
                });
    serverChannel = bootstrap.bind(host, requestedPort).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Stops accepting, lets in-flight requests finish (up to the timeout), then stops the loops. */
  void stop(long timeoutMillis) throws InterruptedException {
    if (serverChannel != null) {
      serverChannel.close().sync();
    }
    inFlight.awaitIdle(timeoutMillis);
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
  }
}
