package io.conea.tracing.jetty;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.IdleTimeout;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Graceful shutdown of a Jetty 12 server's HTTP/1.x connections, the same as {@link
 * io.conea.tracing.netty.NettyDrain} does for Netty: the requests in flight are answered, with
 * {@code Connection: close}, a request that arrives on an open connection during the drain is
 * answered too (with {@code Connection: close}), connections idle for {@value #IDLE_GRACE_MILLIS}
 * ms are closed, and what is still open at the bound is closed.
 *
 * <pre>{@code
 * server.setHandler(contextHandler);
 * ConeaJettyHandler.install(server, httpServerTracing); // optional, in either order
 * JettyDrain drain = JettyDrain.install(server);
 * server.start();
 * ...
 * // On SIGTERM: stop accepting, drain, then stop the server.
 * JettyDrain.Result result = drain.drain(Duration.ofSeconds(10));
 * server.stop();
 * }</pre>
 *
 * <p>Why not Jetty's own graceful stop ({@code Server.setStopTimeout} with a {@code
 * GracefulHandler}, or {@code Connector.shutdown()}): a shut-down connector closes the idle
 * connections after its shutdown idle timeout, counted from each connection's last activity rather
 * than from the shutdown, and it ends a response committed just before the shutdown by closing the
 * connection's output although the response did not say {@code Connection: close}. A busy
 * keep-alive client then sends its next request onto a connection the server has closed, and gets
 * no answer (HTTP/1.1's race of a request crossing the server's close). The drain does not shut the
 * connectors down: it closes their listening sockets ({@link NetworkConnector#close()}), marks the
 * responses itself, and closes a connection only once it has seen no request for the grace, counted
 * from the start of the drain, and no byte for the grace either.
 *
 * <p>Once {@link #drain(Duration)} has started:
 *
 * <ul>
 *   <li>the server's network connectors stop accepting (the host may have closed them earlier with
 *       {@link #closeListeners()});
 *   <li>every response not yet committed carries {@code Connection: close}, and Jetty closes its
 *       connection once it is written, so clients stop sending on it; a response committed before
 *       leaves its connection open, and the client's next request on it is answered with {@code
 *       Connection: close};
 *   <li>a connection with no request in flight that has neither read nor written anything for
 *       {@value #IDLE_GRACE_MILLIS} ms (and at least that long since the drain started) is closed;
 *       the grace spares a busy keep-alive client, whose next request is already on its way, from a
 *       close crossing it: that request is answered instead;
 *   <li>at the bound, what is still open is closed.
 * </ul>
 *
 * <p>The drain serves HTTP/1.x connections, including over TLS. Connections of other protocols
 * (HTTP/2, a WebSocket after its upgrade) are left to {@link Server#stop()}, which the host calls
 * after the drain. A host behind a load balancer should also fail its readiness check before the
 * drain; see the README. Outside a drain the handler's cost is a map update per request and one
 * volatile read per response write. Nothing here throws into Jetty: failures are contained and
 * logged once.
 */
public final class JettyDrain extends Handler.Wrapper {

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();

  /**
   * How long a connection with nothing in flight may take to send a request once a drain starts.
   */
  public static final long IDLE_GRACE_MILLIS = 100;

  /** How often the drain looks for idle connections. */
  static final long POLL_MILLIS = 5;

  /** How long {@link #drain} waits, past the bound, for the connections it closed to close. */
  static final long FORCED_CLOSE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  /** Requests in flight by the end point their connection reads from. */
  private final Map<EndPoint, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  /** Read on every response write; written once. */
  private volatile boolean draining;

  private final LongAdder completed = new LongAdder();
  private volatile @Nullable Server installedOn;
  private @Nullable Result result;

  JettyDrain(@Nullable Handler handler) {
    super(handler);
  }

  /**
   * Returns a drain that wraps {@code handler}; set it as (or within) the server's handler. Its
   * {@link #drain} acts on the connectors of the server it is started with.
   */
  public static JettyDrain create(@Nullable Handler handler) {
    return new JettyDrain(handler);
  }

  /**
   * Wraps the server's handler in a new drain and sets it as the server's handler. Call it after
   * {@link Server#setHandler} and before {@link Server#start}.
   */
  public static JettyDrain install(Server server) {
    requireNonNull(server, "server");
    JettyDrain drain = create(server.getHandler());
    server.setHandler(drain);
    drain.installedOn = server;
    return drain;
  }

  /** Returns whether {@link #drain(Duration)} has started. */
  public boolean isDraining() {
    return draining;
  }

  /** Returns the number of open HTTP/1.x connections of the server's connectors. */
  public int openConnections() {
    return drainedEndPoints().size();
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    Tracked tracked = null;
    try {
      EndPoint endPoint = http1EndPoint(request);
      if (endPoint != null) {
        tracked = new Tracked(endPoint, response);
        request.addHttpStreamWrapper(tracked::wrap);
      }
    } catch (RuntimeException | LinkageError e) {
      report("tracking a request for the drain", e);
      if (tracked != null) {
        tracked.release();
        tracked = null;
      }
    }
    if (tracked == null) {
      return super.handle(request, response, callback);
    }
    if (draining) {
      tracked.closeConnection();
    }
    // The stream wrapper releases the request once its exchange is complete, however that happens
    // (the server's 404 for a request no handler took, an error page, a failure): the response
    // wrapper only marks responses committed by the handlers below.
    return super.handle(request, tracked.response(request), tracked.callback(callback));
  }

  /**
   * Closes the listening sockets of the server's network connectors, so that new connections are
   * refused, without shutting the connectors down (see the class documentation), and waits until
   * their ports refuse connections. A listener whose acceptor thread is blocked in {@code accept()}
   * may go on accepting for a moment after its channel is closed, and a client connecting meanwhile
   * would be served a {@code Connection: close} it did not need, or have its connection closed
   * later: this probes each closed port from this process (on loopback for a wildcard address)
   * until it refuses, one second at most in all. {@link #drain} does it too; a host that stops
   * several servers at once calls this first on each. It blocks.
   *
   * @throws InterruptedException when the calling thread is interrupted while waiting
   */
  public void closeListeners() throws InterruptedException {
    List<InetSocketAddress> closed = new ArrayList<>();
    for (Connector connector : connectors()) {
      if (connector instanceof NetworkConnector) {
        NetworkConnector listener = (NetworkConnector) connector;
        try {
          boolean wasOpen = listener.isOpen();
          int port = listener.getLocalPort();
          String host = listener.getHost();
          listener.close();
          InetSocketAddress address = wasOpen && port > 0 ? probeAddress(host, port) : null;
          if (address != null) {
            closed.add(address);
          }
        } catch (RuntimeException | LinkageError e) {
          report("closing a listener", e);
        }
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (InetSocketAddress address : closed) {
      while (System.nanoTime() - deadline < 0 && accepts(address)) {
        TimeUnit.MILLISECONDS.sleep(2);
      }
    }
  }

  private static @Nullable InetSocketAddress probeAddress(@Nullable String host, int port) {
    try {
      InetAddress address = host == null ? null : InetAddress.getByName(host);
      if (address == null || address.isAnyLocalAddress()) {
        address = InetAddress.getLoopbackAddress();
      }
      return new InetSocketAddress(address, port);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean accepts(InetSocketAddress address) {
    try (Socket probe = new Socket()) {
      probe.connect(address, 100);
      return true;
    } catch (IOException refused) {
      return false;
    }
  }

  /**
   * Drains the server's HTTP/1.x connections and returns once all are closed or, at the latest,
   * once the bound has passed and the connections still open have been closed (this waits up to a
   * further half second for those to close). Closes the listeners first, if the host has not. A
   * second call returns the first call's result. It blocks.
   *
   * @param bound how long requests in flight may take to be answered
   * @return what the drain found and did
   * @throws InterruptedException when the calling thread is interrupted while waiting; the
   *     connections still drain, and none is forcibly closed
   */
  public synchronized Result drain(Duration bound) throws InterruptedException {
    requireNonNull(bound, "bound");
    if (bound.isNegative()) {
      throw new IllegalArgumentException("bound must not be negative: " + bound);
    }
    if (result != null) {
      return result;
    }
    long start = System.nanoTime();
    long deadline = start + saturatedNanos(bound);
    long graceEnd = start + TimeUnit.MILLISECONDS.toNanos(IDLE_GRACE_MILLIS);
    closeListeners();
    draining = true;
    int inFlightAtStart = 0;
    for (AtomicInteger count : inFlight.values()) {
      inFlightAtStart += Math.max(0, count.get());
    }
    int idleClosed = 0;
    Set<EndPoint> closed = Collections.newSetFromMap(new IdentityHashMap<>());
    while (true) {
      List<EndPoint> open = drainedEndPoints();
      open.removeIf(closed::contains);
      long now = System.nanoTime();
      if (open.isEmpty() || now - deadline >= 0) {
        break;
      }
      if (now - graceEnd >= 0) {
        for (EndPoint endPoint : open) {
          if (idle(endPoint)) {
            closed.add(endPoint);
            // One that answered with Connection: close and waits for its client to close is no
            // idle keep-alive connection.
            if (!endPoint.isOutputShutdown()) {
              idleClosed++;
            }
            close(endPoint);
          }
        }
      }
      TimeUnit.MILLISECONDS.sleep(
          Math.max(1, Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(deadline - now))));
    }
    int forced = 0;
    int abandoned = 0;
    for (EndPoint endPoint : drainedEndPoints()) {
      if (closed.add(endPoint)) {
        forced++;
        abandoned += requestsInFlight(endPoint);
        close(endPoint);
      }
    }
    long closeDeadline = System.nanoTime() + FORCED_CLOSE_WAIT_NANOS;
    while (!drainedEndPoints().isEmpty() && System.nanoTime() - closeDeadline < 0) {
      TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
    }
    result =
        new Result(
            inFlightAtStart,
            completed.sum(),
            abandoned,
            idleClosed,
            forced,
            Duration.ofNanos(System.nanoTime() - start));
    return result;
  }

  private List<Connector> connectors() {
    Server server = getServer();
    if (server == null) {
      server = installedOn;
    }
    return server == null ? List.of() : List.of(server.getConnectors());
  }

  /** The open connections of the server's connectors that the drain serves: HTTP/1.x ones. */
  private List<EndPoint> drainedEndPoints() {
    List<EndPoint> endPoints = new ArrayList<>();
    for (Connector connector : connectors()) {
      try {
        for (EndPoint endPoint : connector.getConnectedEndPoints()) {
          if (endPoint.isOpen() && http1(endPoint)) {
            endPoints.add(endPoint);
          }
        }
      } catch (RuntimeException | LinkageError e) {
        report("listing a connector's connections", e);
      }
    }
    return endPoints;
  }

  /**
   * Whether a connection is HTTP/1.x, or not yet known to be anything else (a connection still in
   * its TLS handshake, or one that has sent nothing).
   */
  private static boolean http1(EndPoint endPoint) {
    Connection connection = application(endPoint).getConnection();
    if (connection instanceof ConnectionMetaData) {
      return isHttp1(((ConnectionMetaData) connection).getHttpVersion());
    }
    // An upgraded connection (a WebSocket) is neither; a detecting or handshaking one has no
    // protocol yet and is drained like an idle HTTP/1.x connection.
    return !(connection instanceof Connection.UpgradeTo);
  }

  private static boolean isHttp1(@Nullable HttpVersion version) {
    return version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0;
  }

  /** The end point the HTTP connection reads from: the TLS layer's for a TLS connection. */
  private static EndPoint application(EndPoint endPoint) {
    Connection connection = endPoint.getConnection();
    if (connection instanceof SslConnection) {
      return ((SslConnection) connection).getSslEndPoint();
    }
    return endPoint;
  }

  private boolean idle(EndPoint endPoint) {
    EndPoint inner = application(endPoint);
    if (requestsInFlight(endPoint) > 0) {
      return false;
    }
    long grace = IDLE_GRACE_MILLIS;
    return idleFor(endPoint) >= grace && idleFor(inner) >= grace;
  }

  private int requestsInFlight(EndPoint endPoint) {
    AtomicInteger count = inFlight.get(application(endPoint));
    return count == null ? 0 : count.get();
  }

  private static long idleFor(EndPoint endPoint) {
    // Jetty's end points note the time of their last read, write or read interest.
    return endPoint instanceof IdleTimeout ? ((IdleTimeout) endPoint).getIdleFor() : Long.MAX_VALUE;
  }

  private static void close(EndPoint endPoint) {
    try {
      endPoint.close();
    } catch (RuntimeException | LinkageError e) {
      report("closing a connection", e);
    }
  }

  private static @Nullable EndPoint http1EndPoint(Request request) {
    ConnectionMetaData metaData = request.getConnectionMetaData();
    if (!isHttp1(metaData.getHttpVersion())) {
      return null;
    }
    Connection connection = metaData.getConnection();
    return connection == null ? null : connection.getEndPoint();
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }

  private static void report(String what, Throwable failure) {
    PROBLEMS.report(
        LOGGER,
        what,
        "Jetty drain failed while "
            + what
            + "; the request is served without it. Later failures of this kind are logged at"
            + " debug level.",
        failure);
  }

  /** One request in flight on a connection, from its handling to the end of its exchange. */
  private final class Tracked {
    private final EndPoint endPoint;
    private final Response response;
    private final AtomicBoolean released = new AtomicBoolean();

    Tracked(EndPoint endPoint, Response response) {
      this.endPoint = endPoint;
      this.response = response;
      inFlight.compute(
          endPoint,
          (key, count) -> {
            AtomicInteger counted = count == null ? new AtomicInteger() : count;
            counted.incrementAndGet();
            return counted;
          });
    }

    HttpStream wrap(HttpStream stream) {
      return new HttpStream.Wrapper(stream) {
        @Override
        public void succeeded() {
          release();
          super.succeeded();
        }

        @Override
        public void failed(Throwable failure) {
          release();
          super.failed(failure);
        }
      };
    }

    Response response(Request request) {
      return new Response.Wrapper(request, response) {
        @Override
        public void write(boolean last, @Nullable ByteBuffer content, Callback callback) {
          if (draining) {
            closeConnection();
          }
          super.write(last, content, callback);
        }
      };
    }

    /** Marks a response that is completed without a write of its own (an empty one, say). */
    Callback callback(Callback callback) {
      return new Callback.Nested(callback) {
        @Override
        public void succeeded() {
          if (draining) {
            closeConnection();
          }
          super.succeeded();
        }
      };
    }

    /** Asks for {@code Connection: close} on the response, unless it is committed. */
    void closeConnection() {
      try {
        if (!response.isCommitted()) {
          response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        }
      } catch (RuntimeException | LinkageError e) {
        // A response committed meanwhile: its connection is left to the idle grace.
        report("marking a response Connection: close", e);
      }
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        if (draining) {
          completed.increment();
        }
        inFlight.computeIfPresent(
            endPoint, (key, count) -> count.decrementAndGet() <= 0 ? null : count);
      }
    }
  }

  /**
   * What a drain found and did.
   *
   * @param inFlightAtStart requests being handled when the drain started
   * @param completed requests whose exchange ended during the drain (including requests that
   *     arrived during it on open connections)
   * @param abandoned requests still in flight when their connection was closed at the bound
   * @param idleClosed keep-alive connections closed as idle: no request in flight and nothing read
   *     or written for the idle grace (connections that answered with {@code Connection: close} and
   *     whose clients are slow to close them are closed the same way, but not counted here)
   * @param forcedCloses connections still open at the bound, closed then
   * @param elapsed how long the drain took
   */
  public record Result(
      int inFlightAtStart,
      long completed,
      int abandoned,
      int idleClosed,
      int forcedCloses,
      Duration elapsed) {}
}
