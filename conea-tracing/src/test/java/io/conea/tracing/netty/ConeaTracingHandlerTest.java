package io.conea.tracing.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.Await;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.Mutations;
import io.conea.tracing.RouteTemplates;
import io.conea.tracing.TestTelemetry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class ConeaTracingHandlerTest {

  private static TestTelemetry telemetry;
  private static HttpServerTracing tracing;
  private static EventLoopGroup group;
  private static Channel server;

  /** What the application saw, one entry per request: "uri trace=... mdc=...". */
  private static final List<String> seen = new CopyOnWriteArrayList<>();

  /** Context or MDC found on the event loop outside a request's read. */
  private static final List<String> leaks = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startServer() throws InterruptedException {
    telemetry = TestTelemetry.alwaysOn();
    tracing =
        HttpServerTracing.builder(telemetry.api(), telemetry.metrics)
            .routes(RouteTemplates.of("/api/v1/users/{id}"))
            .build();
    group = newEventLoopGroup();
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
                        .addLast(ConeaTracingHandler.create(tracing))
                        .addLast(new Application());
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    telemetry.close();
  }

  @BeforeEach
  void reset() {
    telemetry.spans.reset();
    seen.clear();
    leaks.clear();
  }

  private static int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private static Socket connect() throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port());
    socket.setSoTimeout(5_000);
    return socket;
  }

  private static void send(Socket socket, String requests) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(requests.getBytes(US_ASCII));
    out.flush();
  }

  /** Reads until the received text satisfies the condition. */
  private static String readUntil(Socket socket, Predicate<String> done) throws IOException {
    InputStream in = socket.getInputStream();
    StringBuilder received = new StringBuilder();
    byte[] buffer = new byte[8192];
    while (!done.test(received.toString())) {
      int read = in.read(buffer);
      if (read < 0) {
        break;
      }
      received.append(new String(buffer, 0, read, ISO_8859_1));
    }
    return received.toString();
  }

  private static int count(String text, String part) {
    int count = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
      count++;
    }
    return count;
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }

  @Test
  void keepAliveRequestsEachGetTheirOwnSpanAndParent() throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          "GET /api/v1/users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceparent:"
              + " 00-11111111111111111111111111111111-1111111111111111-01\r\n\r\n");
      readUntil(socket, r -> count(r, "trace=") == 1);
      send(
          socket,
          "GET /api/v1/users/2 HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceparent:"
              + " 00-22222222222222222222222222222222-2222222222222222-01\r\n\r\n");
      readUntil(socket, r -> count(r, "trace=") == 1);
    }
    List<SpanData> spans = telemetry.awaitSpans(2);
    assertThat(spans)
        .extracting(SpanData::getTraceId)
        .containsExactly("11111111111111111111111111111111", "22222222222222222222222222222222");
    assertThat(spans)
        .extracting(SpanData::getParentSpanId)
        .containsExactly("1111111111111111", "2222222222222222");
    assertThat(spans).extracting(SpanData::getName).containsOnly("GET /api/v1/users/{id}");
  }

  @Test
  void pipelinedRequestsInOneWriteAreMatchedToTheirResponsesInOrder() throws Exception {
    double before = telemetry.requests("GET", "/api/v1/users/{id}", "200");
    String responses;
    try (Socket socket = connect()) {
      send(socket, get("/api/v1/users/1") + get("/api/v1/users/2") + get("/status/404"));
      responses = readUntil(socket, r -> count(r, "HTTP/1.1 ") == 3 && r.endsWith("status"));
    }
    List<SpanData> spans = telemetry.awaitSpans(3);
    assertThat(spans)
        .extracting(s -> s.getAttributes().get(AttributeKey.stringKey("url.path")))
        .containsExactly("/api/v1/users/1", "/api/v1/users/2", "/status/404");
    assertThat(spans)
        .extracting(s -> s.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .containsExactly(200L, 200L, 404L);
    assertThat(spans).extracting(SpanData::getTraceId).doesNotHaveDuplicates();
    // Each request was read by the application with its own span and MDC current.
    for (int i = 0; i < 2; i++) {
      String traceId = spans.get(i).getTraceId();
      assertThat(seen)
          .contains("/api/v1/users/" + (i + 1) + " trace=" + traceId + " mdc=" + traceId);
      assertThat(responses).contains("trace=" + traceId);
    }
    Await.until(() -> telemetry.requests("GET", "/api/v1/users/{id}", "200") == before + 2);
    assertThat(leaks).isEmpty();
  }

  @Test
  void chunkedResponseEndsOnItsLastContent() throws Exception {
    String response;
    try (Socket socket = connect()) {
      send(socket, get("/chunked"));
      response = readUntil(socket, r -> r.endsWith("0\r\n\r\n"));
    }
    assertThat(response).contains("transfer-encoding: chunked").contains("part-2");
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(200L);
    // Three chunks 30 ms apart: the span covers the whole response, not just its headers.
    assertThat(span.getEndEpochNanos() - span.getStartEpochNanos())
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(90));
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
  }

  @Test
  void headNoContentAndNotModifiedResponsesEndProperly() throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          "HEAD /api/v1/users/7 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
              + get("/status/204")
              + get("/status/304")
              + get("/status/200"));
      readUntil(socket, r -> count(r, "HTTP/1.1 ") == 4 && r.endsWith("status"));
    }
    List<SpanData> spans = telemetry.awaitSpans(4);
    assertThat(spans)
        .extracting(s -> s.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .containsExactly(200L, 204L, 304L, 200L);
    assertThat(spans.get(0).getName()).isEqualTo("HEAD /api/v1/users/{id}");
    Await.until(() -> telemetry.requests("HEAD", "/api/v1/users/{id}", "200") >= 1);
  }

  @Test
  void connectionClosedBeforeTheResponseIsCountedAs499AndItsSpanEnded() throws Exception {
    double before = telemetry.requests("GET", "/never", "499");
    try (Socket socket = connect()) {
      send(socket, get("/never"));
      Await.until(() -> seen.stream().anyMatch(s -> s.startsWith("/never")));
    }
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isNull();
    Await.until(() -> telemetry.requests("GET", "/never", "499") == before + 1);
    assertThat(telemetry.requests("GET", "/never", "500")).isZero();
  }

  @Test
  void aRequestTheApplicationClosesTheConnectionOnInsteadOfAnsweringIsCountedAs500()
      throws Exception {
    // The application throws; its exceptionCaught closes the connection, as many do: the client
    // gets no answer because of the server, as a container would have answered 500.
    double before = telemetry.requests("GET", "/crash", "500");
    try (Socket socket = connect()) {
      send(socket, get("/crash"));
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path"))).isEqualTo("/crash");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed_by_server");
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isNull();
    Await.until(() -> telemetry.requests("GET", "/crash", "500") == before + 1);
    assertThat(telemetry.requests("GET", "/crash", "499")).isZero();
  }

  @Test
  void aResetIsStill499WhenTheApplicationClosesTheConnectionOnTheIoError() throws Exception {
    double before = telemetry.requests("GET", "/never", "499");
    try (Socket socket = connect()) {
      send(socket, get("/never"));
      Await.until(() -> seen.stream().anyMatch(s -> s.startsWith("/never")));
      socket.setSoLinger(true, 0); // the close sends a reset
    }
    Await.until(() -> telemetry.requests("GET", "/never", "499") == before + 1);
    assertThat(telemetry.requests("GET", "/never", "500")).isZero();
    assertThat(
            telemetry
                .awaitSpans(1)
                .get(0)
                .getAttributes()
                .get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
  }

  @Test
  void requestWhoseHeadersAreCutOffByACloseIsCountedAs499NotAs400AndItsSpanEnded()
      throws Exception {
    double before = telemetry.requests("GET", "/cut", "499");
    try (Socket socket = connect()) {
      // The request line and part of the headers, then the client goes away.
      send(socket, "GET /cut HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: abc");
      Thread.sleep(50);
    }
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path"))).isEqualTo("/cut");
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isNull();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    Await.until(() -> telemetry.requests("GET", "/cut", "499") == before + 1);
    // The application answered the cut-off request 400, which no client received.
    assertThat(telemetry.requests("GET", "/cut", "400")).isZero();
  }

  @Test
  void malformedRequestOnALiveConnectionIsStillCountedWithThe400TheClientReceives()
      throws Exception {
    double before = telemetry.requests("GET", "/malformed", "400");
    try (Socket socket = connect()) {
      send(socket, "GET /malformed HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n");
      assertThat(readUntil(socket, r -> r.contains("\r\n\r\n"))).startsWith("HTTP/1.1 400");
    }
    Await.until(() -> telemetry.requests("GET", "/malformed", "400") == before + 1);
    assertThat(telemetry.requests("GET", "/malformed", "499")).isZero();
  }

  @Test
  void connectionClosedAfterTheHeadersIsCountedWithTheStatusSent() throws Exception {
    double before = telemetry.requests("GET", "/headers-only", "200");
    try (Socket socket = connect()) {
      send(socket, get("/headers-only"));
      readUntil(socket, r -> r.contains("\r\n\r\n"));
    }
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(200L);
    assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("connection_closed");
    Await.until(() -> telemetry.requests("GET", "/headers-only", "200") == before + 1);
  }

  @Test
  void establishedConnectionsAreCountedWhileOpen() throws Exception {
    Await.until(() -> telemetry.established() == 0);
    try (Socket first = connect();
        Socket second = connect()) {
      send(first, get("/api/v1/users/1"));
      send(second, get("/api/v1/users/2"));
      readUntil(first, r -> r.contains("trace="));
      readUntil(second, r -> r.contains("trace="));
      assertThat(telemetry.established()).isEqualTo(2);
    }
    Await.until(() -> telemetry.established() == 0);
  }

  @Test
  void connectionStaysCountedAfterTheHandlerIsRemovedUntilItCloses() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      ConeaTracingHandler handler =
          ConeaTracingHandler.create(HttpServerTracing.create(local.api(), local.metrics));
      EmbeddedChannel channel = new EmbeddedChannel(handler);
      channel.writeInbound(
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/upgrade"));
      channel.pipeline().remove(handler);
      assertThat(local.finishedSpans()).hasSize(1); // the request in flight was ended
      assertThat(local.established()).isEqualTo(1);
      channel.close();
      assertThat(local.established()).isEqualTo(0);
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  @Test
  void handlerRemovedFromALiveConnectionEndsRequestsAsUnobservedNotAsClosedByTheClient() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      ConeaTracingHandler handler =
          ConeaTracingHandler.create(HttpServerTracing.create(local.api(), local.metrics));
      EmbeddedChannel channel = new EmbeddedChannel(handler);
      channel.writeInbound(
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/streaming"));
      channel.writeInbound(
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/waiting"));
      channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
      channel.pipeline().remove(handler);

      List<SpanData> spans = local.finishedSpans();
      assertThat(spans)
          .extracting(s -> s.getAttributes().get(AttributeKey.stringKey("url.path")))
          .containsExactly("/streaming", "/waiting");
      assertThat(spans)
          .allSatisfy(s -> assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET));
      assertThat(
              spans.get(0).getAttributes().get(AttributeKey.longKey("http.response.status_code")))
          .isEqualTo(200L);
      assertThat(spans.get(1).getAttributes().get(AttributeKey.stringKey("error.type")))
          .isEqualTo("response_unobserved");
      assertThat(local.requests("GET", "/streaming", "200")).isEqualTo(1);
      assertThat(local.requests("GET", "/waiting", "_OTHER")).isEqualTo(1);
      assertThat(local.scrape()).doesNotContain("status=\"499\"").doesNotContain("status=\"500\"");
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  @Test
  void handlerRemovedWhileTheNextHandlerReadsLeavesNoContextBehind() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      ConeaTracingHandler handler =
          ConeaTracingHandler.create(HttpServerTracing.create(local.api(), local.metrics));
      List<String> paths = new CopyOnWriteArrayList<>();
      EmbeddedChannel channel =
          new EmbeddedChannel(
              handler,
              new ChannelInboundHandlerAdapter() {
                @Override
                @SuppressWarnings("try") // the scope is what the removal happens inside of
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  paths.add(MDC.get("path"));
                  Span own = local.api().getTracer("app").spanBuilder("upgrade").startSpan();
                  try (Scope scope = own.makeCurrent()) {
                    ctx.pipeline().remove(handler); // a protocol upgrade, say
                  } finally {
                    own.end();
                    ReferenceCountUtil.release(msg);
                  }
                }
              });
      channel.writeInbound(
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/upgrade"));

      assertThat(paths).containsExactly("/upgrade");
      assertThat(Span.current().getSpanContext().isValid()).isFalse();
      assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
      assertThat(local.finishedSpans()).extracting(SpanData::getName).contains("upgrade", "GET");
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  @Test
  void interimContinueResponseDoesNotEndTheRequest() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/continue"));
      readUntil(socket, r -> count(r, "HTTP/1.1 ") == 2 && r.endsWith("status"));
    }
    SpanData span = telemetry.awaitSpans(1).get(0);
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(201L);
  }

  @Test
  void requestsPastThePendingBoundAreCountedButNotTraced() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      HttpServerTracing bounded =
          HttpServerTracing.builder(local.api(), local.metrics)
              .maxPendingRequestsPerConnection(2)
              .build();
      EmbeddedChannel channel = new EmbeddedChannel(ConeaTracingHandler.create(bounded));
      for (int i = 0; i < 5; i++) {
        channel.writeInbound(
            new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/item/" + i));
      }
      for (int i = 0; i < 5; i++) {
        channel.writeOutbound(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
      }
      assertThat(local.finishedSpans())
          .extracting(s -> s.getAttributes().get(AttributeKey.stringKey("url.path")))
          .containsExactly("/item/0", "/item/1");
      assertThat(local.totalRequests()).isEqualTo(5);
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  @Test
  void pipeliningClientThatNeverReadsIsPausedAtTheBoundAndEveryRequestIsStillCounted()
      throws Exception {
    TestTelemetry local = TestTelemetry.alwaysOn();
    HttpServerTracing bounded =
        HttpServerTracing.builder(local.api(), local.metrics)
            .maxPendingRequestsPerConnection(2)
            .build();
    Holding application = new Holding();
    List<Channel> accepted = new CopyOnWriteArrayList<>();
    Channel holdingServer =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    accepted.add(channel);
                    channel
                        .pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(ConeaTracingHandler.create(bounded))
                        .addLast(application);
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
    int requests = 500;
    byte[] request =
        ("GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + "p".repeat(2000) + "\r\n\r\n")
            .getBytes(US_ASCII);
    List<IOException> writeFailures = new CopyOnWriteArrayList<>();
    try (Socket socket =
        new Socket(
            InetAddress.getLoopbackAddress(),
            ((InetSocketAddress) holdingServer.localAddress()).getPort())) {
      socket.setSoTimeout(10_000);
      Thread writer =
          new Thread(
              () -> {
                try {
                  OutputStream out = socket.getOutputStream();
                  for (int i = 0; i < requests; i++) {
                    out.write(request);
                  }
                  out.flush();
                } catch (IOException e) {
                  writeFailures.add(e);
                }
              },
              "pipelining-writer");
      writer.setDaemon(true);
      writer.start();

      // The application holds every response: the handler must stop reading at 4 x 2 in flight.
      Await.until(() -> !accepted.isEmpty() && !accepted.get(0).config().isAutoRead());
      Channel channel = accepted.get(0);
      channel.eventLoop().submit(() -> {}).sync(); // the read under way has been handled
      assertThat(application.read.get())
          .as("requests read while the client kept sending and nothing was answered")
          .isBetween(4 * 2, requests / 2);

      channel.eventLoop().execute(application::release);
      String responses = readUntil(socket, r -> count(r, "HTTP/1.1 200 OK") == requests);
      writer.join(10_000);

      assertThat(writeFailures).isEmpty();
      assertThat(count(responses, "HTTP/1.1 200 OK")).isEqualTo(requests);
      assertThat(application.read.get()).isEqualTo(requests);
      assertThat(local.totalRequests()).isEqualTo(requests);
      assertThat(channel.config().isAutoRead()).isTrue();
    } finally {
      holdingServer.close().sync();
      local.close();
    }
  }

  @Test
  void contentChunksOfOneReadShareTheRequestsScopeWithoutAllocatingPerChunk() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      ChunkReader reader = new ChunkReader();
      EmbeddedChannel channel =
          new EmbeddedChannel(
              ConeaTracingHandler.create(HttpServerTracing.create(local.api(), local.metrics)),
              reader);
      long fewChunks = allocatedWhileReading(channel, 10); // also warms up
      fewChunks = allocatedWhileReading(channel, 10);
      long manyChunks = allocatedWhileReading(channel, 2010);

      assertThat(reader.messages).isEqualTo(3 * 2 + 10 + 10 + 2010);
      assertThat(reader.withoutRequestScope).isZero();
      assertThat((manyChunks - fewChunks) / 2000.0)
          .as("bytes allocated per content chunk")
          .isLessThan(8.0);
      assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
      assertThat(Span.current().getSpanContext().isValid()).isFalse();
      assertThat(local.totalRequests()).isEqualTo(3);
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  /** Returns the bytes this thread allocated while one read delivered a request of n chunks. */
  private static long allocatedWhileReading(EmbeddedChannel channel, int chunks) {
    Object[] messages = new Object[chunks + 2];
    messages[0] = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload");
    for (int i = 1; i <= chunks; i++) {
      messages[i] = new DefaultHttpContent(Unpooled.EMPTY_BUFFER);
    }
    messages[chunks + 1] = LastHttpContent.EMPTY_LAST_CONTENT;
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    channel.writeInbound(messages);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    channel.outboundMessages().clear();
    return allocated;
  }

  /** Counts the messages read without their request's trace id in the MDC. */
  private static final class ChunkReader extends ChannelInboundHandlerAdapter {
    int messages;
    int withoutRequestScope;
    private String traceId;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest) {
        traceId = Span.current().getSpanContext().getTraceId();
      }
      messages++;
      if (!traceId.equals(MDC.get("trace_id"))) {
        withoutRequestScope++;
      }
      ReferenceCountUtil.release(msg);
    }
  }

  @Test
  void absoluteFormTargetLosesItsUserinfo() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      EmbeddedChannel channel =
          new EmbeddedChannel(
              ConeaTracingHandler.create(HttpServerTracing.create(local.api(), local.metrics)));
      channel.writeInbound(
          new DefaultFullHttpRequest(
              HttpVersion.HTTP_1_1,
              HttpMethod.GET,
              "http://alice:secret@example.com:8080/files/a?sig=abc&x=1"));
      channel.writeOutbound(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
      SpanData span = local.finishedSpans().get(0);
      assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path")))
          .isEqualTo("/files/a");
      assertThat(span.getAttributes().get(AttributeKey.stringKey("url.query")))
          .isEqualTo("sig=REDACTED&x=1");
      assertThat(span.getAttributes().toString()).doesNotContain("secret", "alice");
      channel.finishAndReleaseAll();
    } finally {
      local.close();
    }
  }

  @Test
  void tenThousandMutatedPropagationHeadersAreServedExactlyAsWithoutInstrumentation() {
    TestTelemetry local = TestTelemetry.alwaysOn();
    try {
      HttpServerTracing hostileTarget = HttpServerTracing.create(local.api(), local.metrics);
      Random random = new Random(1234);
      String[] names = {"traceparent", "tracestate", "uber-trace-id", "baggage"};
      String[] seeds = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        "4bf92f3577b34da6:00f067aa0ba902b7:0:1",
        "userId=alice,serverNode=DF%2028"
      };
      int requests = 10_000;
      int served = 0;
      for (int i = 0; i < requests; i++) {
        int which = i % names.length;
        byte[] request =
            ("GET /api/v1/users/"
                    + i
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + names[which]
                    + ": "
                    + Mutations.mutate(seeds[which], random)
                    + "\r\n\r\n")
                .getBytes(ISO_8859_1);
        String instrumented = serve(request, ConeaTracingHandler.create(hostileTarget));
        String plain = serve(request, null);
        // The application echoes the current trace id, which only the instrumented side has.
        assertThat(instrumented.replaceAll("trace=[0-9a-f]{32}", "trace=*"))
            .isEqualTo(plain.replaceAll("trace=[0-9a-f]{32}", "trace=*"));
        if (instrumented.startsWith("HTTP/1.1 200")) {
          served++;
        }
      }
      assertThat(served).isGreaterThan(requests / 2);
      assertThat(local.totalRequests()).isEqualTo(requests);
    } finally {
      local.close();
    }
  }

  /** Runs one raw request through a codec pipeline and returns the raw response. */
  private static String serve(byte[] request, ConeaTracingHandler handler) {
    EmbeddedChannel channel =
        handler == null
            ? new EmbeddedChannel(new HttpServerCodec(), new Application())
            : new EmbeddedChannel(new HttpServerCodec(), handler, new Application());
    channel.writeInbound(Unpooled.wrappedBuffer(request));
    StringBuilder response = new StringBuilder();
    for (Object out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      ByteBuf buffer = (ByteBuf) out;
      response.append(buffer.toString(ISO_8859_1));
      buffer.release();
    }
    channel.finishAndReleaseAll();
    return response.toString();
  }

  /** Holds every response until released, then answers each request at once. */
  private static final class Holding extends ChannelInboundHandlerAdapter {
    final AtomicInteger read = new AtomicInteger();
    private ChannelHandlerContext context;
    private int owed;
    private boolean released;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      context = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof LastHttpContent) {
          read.incrementAndGet();
          if (released) {
            answer(ctx);
          } else {
            owed++;
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    /** Runs on the event loop. */
    void release() {
      released = true;
      for (; owed > 0; owed--) {
        answer(context);
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

  /** The application: answers by path and reports what it sees of the trace and the MDC. */
  private static final class Application extends ChannelInboundHandlerAdapter {
    private HttpRequest request;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest) {
          request = (HttpRequest) msg;
          String traceId =
              Span.current().getSpanContext().isValid()
                  ? Span.current().getSpanContext().getTraceId()
                  : "none";
          seen.add(request.uri() + " trace=" + traceId + " mdc=" + MDC.get("trace_id"));
          ctx.executor()
              .execute(
                  () -> {
                    Map<String, String> mdc = MDC.getCopyOfContextMap();
                    if (Span.current().getSpanContext().isValid()
                        || (mdc != null && !mdc.isEmpty())) {
                      leaks.add("after " + request.uri() + ": " + mdc);
                    }
                  });
        }
        if (msg instanceof HttpRequest && request.uri().equals("/crash")) {
          throw new IllegalArgumentException("the application cannot handle " + request.uri());
        }
        // A request the codec could not decode has no content to wait for.
        if (msg instanceof LastHttpContent
            || (msg instanceof HttpRequest && !request.decoderResult().isSuccess())) {
          respond(ctx, request);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    /** Closes the connection on any exception, as many applications do. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private static void respond(ChannelHandlerContext ctx, HttpRequest request) {
      if (!request.decoderResult().isSuccess()) {
        FullHttpResponse bad =
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST);
        bad.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      String uri = request.uri();
      if (request.method().equals(HttpMethod.HEAD)) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 5);
        ctx.write(head);
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      } else if (uri.startsWith("/api/v1/users/")) {
        full(ctx, HttpResponseStatus.OK, "trace=" + Span.current().getSpanContext().getTraceId());
      } else if (uri.startsWith("/status/")) {
        int code = Integer.parseInt(uri.substring("/status/".length()));
        full(ctx, HttpResponseStatus.valueOf(code), code == 204 || code == 304 ? "" : "status");
      } else if (uri.equals("/chunked")) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        ctx.writeAndFlush(head);
        for (int i = 0; i < 3; i++) {
          int part = i;
          ctx.executor()
              .schedule(
                  () -> {
                    ctx.writeAndFlush(
                        new DefaultHttpContent(Unpooled.copiedBuffer("part-" + part, US_ASCII)));
                    if (part == 2) {
                      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                    }
                  },
                  30L * (i + 1),
                  TimeUnit.MILLISECONDS);
        }
      } else if (uri.equals("/headers-only")) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        ctx.writeAndFlush(head);
      } else if (uri.equals("/continue")) {
        ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        full(ctx, HttpResponseStatus.CREATED, "status");
      } else if (!uri.equals("/never")) {
        full(ctx, HttpResponseStatus.NOT_FOUND, "status");
      }
    }

    private static void full(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, US_ASCII));
      if (status.code() != 204 && status.code() != 304) {
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length());
      }
      ctx.writeAndFlush(response);
    }
  }

  /**
   * The event loop both Netty 4.1 and 4.2 have: the tests run on both. (4.2 deprecates it for
   * {@code MultiThreadIoEventLoopGroup}, which 4.1 lacks.)
   */
  @SuppressWarnings("deprecation")
  private static EventLoopGroup newEventLoopGroup() {
    return new NioEventLoopGroup(1);
  }
}
