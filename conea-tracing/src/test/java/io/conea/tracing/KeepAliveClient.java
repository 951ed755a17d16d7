package io.conea.tracing;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import org.jspecify.annotations.Nullable;

/**
 * A keep-alive client of the drain tests: on one raw connection, sends {@code GET target} after the
 * other, each answer expected 200, until the connection ends; then records how it ended and whether
 * the port refused a new connection.
 */
public class KeepAliveClient implements Runnable {

  /** How a client's keep-alive connection ended. */
  public enum End {
    /** Its last response said {@code Connection: close}, and the connection then closed. */
    CLOSED_AFTER_CONNECTION_CLOSE,
    /** The server closed it between requests, and the client saw so before sending another. */
    IDLE_CLOSED,
    /**
     * The client sent a request and the connection ended without one byte of a response: sent onto
     * a connection the server had just closed as idle (the keep-alive race of HTTP/1.1).
     */
    NOT_ACCEPTED
  }

  public final int port;
  public final String target;
  private final int timeoutMillis;
  private final boolean resetEndsConnection;

  /** Responses received in full, all 200. */
  public volatile int complete;

  public volatile @Nullable End end;

  /** What went wrong, when something did; null for a client that ended as the drain allows. */
  public volatile @Nullable String broken;

  /** The reset that ended the connection, if one did. */
  public volatile @Nullable String how;

  public volatile boolean refusedAfterwards;

  /** {@link System#nanoTime()} when the connection's end was seen. */
  public volatile long endedAt;

  /**
   * @param timeoutMillis the socket's read timeout
   * @param resetEndsConnection whether a reset before the first byte of a response counts as the
   *     connection's end rather than a failure (see {@link RawResponse#read})
   */
  public KeepAliveClient(int port, String target, int timeoutMillis, boolean resetEndsConnection) {
    this.port = port;
    this.target = target;
    this.timeoutMillis = timeoutMillis;
    this.resetEndsConnection = resetEndsConnection;
  }

  @Override
  public String toString() {
    return "client(port="
        + port
        + ", "
        + target
        + ", complete="
        + complete
        + ", end="
        + end
        + ", broken="
        + broken
        + ", how="
        + how
        + ")";
  }

  /**
   * Sends one request and reads its answer in full; null when the connection ended without one byte
   * of it. This one counts a reset while sending or reading as such an end.
   */
  protected @Nullable RawResponse exchange(Socket socket) throws IOException {
    try {
      RawHttp.get(socket, target);
      return RawResponse.read(socket.getInputStream(), resetEndsConnection);
    } catch (SocketException reset) {
      how = reset.toString();
      return null;
    }
  }

  @Override
  public void run() {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(timeoutMillis);
      InputStream in = socket.getInputStream();
      boolean reused = false;
      while (true) {
        if (reused && RawResponse.closedByServer(socket, timeoutMillis)) {
          end = End.IDLE_CLOSED;
          break;
        }
        RawResponse response = exchange(socket);
        if (response == null) {
          end = End.NOT_ACCEPTED;
          break;
        }
        if (response.status() != 200) {
          broken = "status " + response.status();
          return;
        }
        complete++;
        if (response.connectionClose()) {
          if (in.read() != -1) {
            broken = "bytes after a response that said Connection: close";
            return;
          }
          end = End.CLOSED_AFTER_CONNECTION_CLOSE;
          break;
        }
        reused = true;
      }
    } catch (IOException | RuntimeException e) {
      broken = e.toString();
      return;
    } finally {
      endedAt = System.nanoTime();
    }
    try (Socket again = new Socket(InetAddress.getLoopbackAddress(), port)) {
      broken = "connected again after the connection ended (" + end + "): " + again;
    } catch (ConnectException refused) {
      refusedAfterwards = true;
    } catch (IOException e) {
      broken = "reconnecting: " + e;
    }
  }
}
