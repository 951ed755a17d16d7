package io.conea.benchmarks;

import io.conea.tracing.netty.ConeaTracingHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The Netty handler's cost per request: a {@link FullHttpRequest} is written into an {@link
 * EmbeddedChannel}, an application handler answers with a {@link FullHttpResponse}, and the
 * response is read back out; no codec, no socket.
 *
 * <p>{@code noHandler} is the same channel without {@link ConeaTracingHandler}; the difference to
 * it is the handler's overhead, with a sampler that keeps no trace and with one that keeps every
 * trace.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NettyHandlerBenchmark {

  /** A channel whose last handler answers each request with the response chosen for it. */
  public abstract static class Connection {
    final FullHttpRequest[] requests = new FullHttpRequest[Requests.COUNT];
    final FullHttpResponse[] responses = new FullHttpResponse[Requests.COUNT];
    EmbeddedChannel channel;
    FullHttpResponse answer;
    Telemetry telemetry;
    private int position;

    /** The handler under test, or null for none. */
    abstract ChannelHandler handler();

    @Setup(Level.Trial)
    public void setUp() {
      for (int i = 0; i < Requests.COUNT; i++) {
        // Empty bodies: reference counting on them is a no-op, so both can be reused.
        DefaultFullHttpRequest request =
            new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(Requests.METHODS[i]),
                Requests.PATHS[i],
                Unpooled.EMPTY_BUFFER);
        request
            .headers()
            .set(HttpHeaderNames.HOST, "localhost:8081")
            .set(HttpHeaderNames.USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) benchmark")
            .set(HttpHeaderNames.ACCEPT, "application/json")
            .set("X-User-Id", "user_123")
            .set("X-Organization-Id", "org_456");
        requests[i] = request;
        DefaultFullHttpResponse response =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(Requests.STATUSES[i]),
                Unpooled.EMPTY_BUFFER);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        responses[i] = response;
      }
      ChannelHandler application =
          new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ctx.writeAndFlush(answer);
            }
          };
      ChannelHandler handler = handler();
      channel =
          handler == null
              ? new EmbeddedChannel(application)
              : new EmbeddedChannel(handler, application);
    }

    /** Serves the next request of the mix; returns the response read back. */
    Object exchange() {
      int i = (position + 1) & (Requests.COUNT - 1);
      position = i;
      answer = responses[i];
      channel.writeInbound(requests[i]);
      return channel.readOutbound();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      try {
        if (telemetry != null) {
          telemetry.verifyConea();
        }
      } finally {
        channel.finishAndReleaseAll();
        if (telemetry != null) {
          telemetry.close();
        }
      }
    }
  }

  /** The channel without conea. */
  @State(Scope.Thread)
  public static class Bare extends Connection {
    @Override
    ChannelHandler handler() {
      return null;
    }
  }

  /** The channel with conea's handler, keeping no trace. */
  @State(Scope.Thread)
  public static class ConeaUnsampled extends Connection {
    boolean sampled() {
      return false;
    }

    @Override
    ChannelHandler handler() {
      telemetry = new Telemetry(sampled());
      return ConeaTracingHandler.create(telemetry.tracing);
    }
  }

  /** The channel with conea's handler, keeping every trace. */
  @State(Scope.Thread)
  public static class ConeaSampled extends ConeaUnsampled {
    @Override
    boolean sampled() {
      return true;
    }
  }

  /** The channel alone: what the handler's figures are compared with. */
  @Benchmark
  public Object noHandler(Bare connection) {
    return connection.exchange();
  }

  /** With conea's handler, trace not sampled. */
  @Benchmark
  public Object coneaUnsampled(ConeaUnsampled connection) {
    return connection.exchange();
  }

  /** With conea's handler, trace sampled. */
  @Benchmark
  public Object coneaSampled(ConeaSampled connection) {
    return connection.exchange();
  }
}
