package io.conea.demo;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Serves the demo's API from Netty. Answers that complete later are written from the event loop,
 * and always in request order, so pipelined requests get their responses in the order they came.
 */
final class DemoNettyHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private record Pending(CompletableFuture<ApiResponse> answer, boolean keepAlive) {}

  private final DemoApi api;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();

  DemoNettyHandler(DemoApi api) {
    this.api = api;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    CompletableFuture<ApiResponse> answer;
    String path = null;
    if (request.decoderResult().isSuccess()) {
      try {
        path = new QueryStringDecoder(request.uri()).path();
      } catch (IllegalArgumentException badEscape) {
        // A path such as /%zz: answered 400, as Jetty does, not left to a closed connection.
      }
    }
    if (path == null) {
      answer = CompletableFuture.completedFuture(malformed(request.decoderResult().cause()));
      keepAlive = false;
    } else {
      int q = request.uri().indexOf('?');
      ApiRequest apiRequest =
          new ApiRequest(
              request.method().name(),
              path,
              Queries.parse(q < 0 ? null : request.uri().substring(q + 1)),
              name -> request.headers().get(name),
              ByteBufUtil.getBytes(request.content()));
      answer = api.handle(apiRequest);
    }
    pending.add(new Pending(answer, keepAlive));
    if (answer.isDone()) {
      flush(ctx);
    } else {
      answer.whenComplete((response, failure) -> ctx.executor().execute(() -> flush(ctx)));
    }
  }

  /** The answer to a request Netty could not decode or whose path has a bad escape. */
  private static ApiResponse malformed(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return DemoApi.error(414, "request line too long");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return DemoApi.error(431, "request header fields too large");
    }
    return DemoApi.error(400, "malformed HTTP request");
  }

  private void flush(ChannelHandlerContext ctx) {
    boolean wrote = false;
    while (!pending.isEmpty() && pending.peek().answer().isDone()) {
      Pending next = pending.poll();
      ApiResponse response =
          next.answer().isCompletedExceptionally()
              ? DemoApi.error(500, "internal error")
              : next.answer().join();
      FullHttpResponse http =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(response.status()),
              Unpooled.wrappedBuffer(response.body()));
      http.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
      if (response.contentEncoding() != null) {
        http.headers().set(HttpHeaderNames.CONTENT_ENCODING, response.contentEncoding());
      }
      HttpUtil.setContentLength(http, response.body().length);
      HttpUtil.setKeepAlive(http, next.keepAlive());
      ctx.write(http);
      wrote = true;
    }
    if (wrote) {
      ctx.flush();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    // Answers still pending will never be written.
    pending.clear();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
