package io.conea.tracing.netty;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Graceful shutdown of the HTTP/1.x connections served through {@link ConeaTracingHandler}s: the
 * requests in flight are answered, with {@code Connection: close}, idle keep-alive connections are
 * closed at once, and what is still open at the bound is closed.
 *
 * <p>One drain serves any number of channels, server ports and event loops; hand it to each
 * connection's handler:
 *
 * <pre>{@code
 * NettyDrain drain = NettyDrain.create();
 * ...
 *     channel.pipeline()
 *         .addLast(new HttpServerCodec())
 *         .addLast(ConeaTracingHandler.create(http, drain))
 *         .addLast(new ApplicationHandler());
 * ...
 * // On SIGTERM: stop accepting first, then drain, then stop the event loops.
 * NettyDrain.closeListeners(serverChannel);
 * NettyDrain.Result result = drain.drain(Duration.ofSeconds(10));
 * workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p>Once {@link #drain(Duration)} has started, on every connection of the drain:
 *
 * <ul>
 *   <li>the response to the last request in flight carries {@code Connection: close}, and the
 *       connection closes once that response is written, so clients stop sending on it instead of
 *       having a request cut off later (responses to earlier pipelined requests are left as they
 *       are, since the client is owed those answers on the same connection); the same holds for a
 *       request that arrives during the drain, on a connection accepted just before the listener
 *       closed, say;
 *   <li>a connection with no request in flight that receives none within {@value
 *       #IDLE_GRACE_MILLIS} ms is closed as idle (after flushing what was written to it). The grace
 *       is what spares a busy keep-alive client, whose next request is already on its way, from
 *       HTTP/1.1's race of a request sent onto a connection the server closes the same instant:
 *       that request is answered, with {@code Connection: close}, instead;
 *   <li>at the bound, what is still open is closed; its requests in flight end as the handler ends
 *       any request whose connection closes ({@link
 *       io.conea.tracing.TracedRequest#endConnectionClosed()}).
 * </ul>
 *
 * <p>Stopping the acceptance of new connections is the host's part: the drain sees connections, not
 * listeners. {@link #closeListeners(Channel...)} closes server channels and lets their event loops
 * release the sockets. A host behind a load balancer should also fail its readiness check before
 * closing its listeners; see the README.
 *
 * <p>Outside a drain, the handler's cost is one volatile read per response.
 */
public final class NettyDrain {

  /**
   * How long a connection with nothing in flight may take to send a request once a drain starts.
   */
  public static final long IDLE_GRACE_MILLIS = 100;

  /** How long {@link #drain} waits, past the bound, for the connections it closed to close. */
  static final long FORCED_CLOSE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final Set<ConeaTracingHandler> connections = ConcurrentHashMap.newKeySet();
  private final Object closedSignal = new Object();

  /** Read by every handler on every response; written once. */
  volatile boolean draining;

  final AtomicInteger inFlightAtStart = new AtomicInteger();
  final AtomicInteger idleClosed = new AtomicInteger();
  final AtomicInteger abandoned = new AtomicInteger();
  final LongAdder completed = new LongAdder();

  private @Nullable Result result;

  NettyDrain() {}

  /** Returns a drain for the connections of the handlers it is given to. */
  public static NettyDrain create() {
    return new NettyDrain();
  }

  /** Returns whether {@link #drain(Duration)} has started. */
  public boolean isDraining() {
    return draining;
  }

  /** Returns the number of open connections the drain tracks. */
  public int openConnections() {
    return connections.size();
  }

  /**
   * Drains every connection of this drain and returns once all are closed or, at the latest, once
   * the bound has passed and the connections still open have been closed (this waits up to a
   * further half second for those to close). A second call returns the first call's result. It
   * blocks: call it from a thread that is no event loop.
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
    draining = true;
    // Each connection's state belongs to its event loop: the drain starts there.
    List<Future<?>> started = new ArrayList<>();
    for (ConeaTracingHandler connection : connections) {
      Future<?> future = connection.startDrain();
      if (future != null) {
        started.add(future);
      }
    }
    for (Future<?> future : started) {
      future.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    synchronized (closedSignal) {
      long left;
      while (!connections.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.timedWait(closedSignal, left);
      }
    }
    int forced = 0;
    List<Future<?>> closing = new ArrayList<>();
    for (ConeaTracingHandler connection : connections) {
      Future<?> future = connection.forceClose();
      if (future != null) {
        forced++;
        closing.add(future);
      }
    }
    long closeDeadline = System.nanoTime() + FORCED_CLOSE_WAIT_NANOS;
    for (Future<?> future : closing) {
      future.await(Math.max(0, closeDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    result =
        new Result(
            inFlightAtStart.get(),
            completed.sum(),
            abandoned.get(),
            idleClosed.get(),
            forced,
            Duration.ofNanos(System.nanoTime() - start));
    return result;
  }

  /**
   * Closes server channels (listeners) at once and waits for their event loops to release the
   * sockets. A closed NIO server channel still registered with a selector keeps its socket
   * listening until the selector next runs, and a client connecting meanwhile gets a connection
   * that is reset later: this has each listener's event loop run a few tasks, between which it
   * passes through its selector, which usually releases the socket within a millisecond or two. A
   * host that must be sure can probe the port until it refuses connections, as the demo does. Waits
   * at most one second in all. It blocks: call it from a thread that is no event loop.
   *
   * @param listeners the server channels to close
   * @throws InterruptedException when the calling thread is interrupted while waiting
   */
  public static void closeListeners(Channel... listeners) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    List<Future<?>> closing = new ArrayList<>();
    for (Channel listener : listeners) {
      closing.add(listener.close());
    }
    for (Future<?> future : closing) {
      future.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    // A task queued while the event loop is idle wakes it from its selector, which then releases
    // the sockets of the channels closed before; a few rounds make sure one such pass happened.
    for (int round = 0; round < 3; round++) {
      for (Channel listener : listeners) {
        try {
          listener
              .eventLoop()
              .submit(() -> {})
              .await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopped) {
          // The event loop has stopped, and its selector with it.
        }
      }
    }
  }

  void register(ConeaTracingHandler connection) {
    connections.add(connection);
  }

  void unregister(ConeaTracingHandler connection) {
    if (connections.remove(connection) && draining) {
      synchronized (closedSignal) {
        closedSignal.notifyAll();
      }
    }
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }

  /**
   * What a drain found and did.
   *
   * @param inFlightAtStart requests read and not yet answered when the drain started
   * @param completed requests answered during the drain (including requests that arrived during it,
   *     pipelined or on connections accepted just before the listener closed)
   * @param abandoned requests still unanswered when their connection was closed at the bound
   * @param idleClosed connections closed as idle: nothing in flight when the drain started, and no
   *     request within the idle grace
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
