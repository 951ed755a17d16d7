package io.conea.tracing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 response with a Content-Length body, read in full off a raw socket, as the
 * keep-alive clients of the drain tests read them.
 *
 * @param status the response's status
 * @param connectionClose whether it said {@code Connection: close}
 */
public record RawResponse(int status, boolean connectionClose) {

  /**
   * Reads one response; null when the connection ends before its first byte; throws when it ends in
   * the middle.
   *
   * @param resetEndsConnection whether a reset before the first byte counts as the connection's end
   *     (null) rather than a failure
   */
  public static @Nullable RawResponse read(InputStream in, boolean resetEndsConnection)
      throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (true) {
      int b;
      try {
        b = in.read();
      } catch (SocketException reset) {
        if (!resetEndsConnection) {
          throw reset;
        }
        b = -1;
      }
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new IOException("connection closed in the middle of a response head: " + head);
      }
      head.write(b);
      byte[] bytes = head.toByteArray();
      int n = bytes.length;
      if (n >= 4
          && bytes[n - 4] == '\r'
          && bytes[n - 3] == '\n'
          && bytes[n - 2] == '\r'
          && bytes[n - 1] == '\n') {
        break;
      }
    }
    String text = head.toString(US_ASCII).toLowerCase(Locale.ROOT);
    int status = Integer.parseInt(text.substring(9, 12));
    int length = 0;
    boolean close = false;
    for (String line : text.split("\r\n")) {
      if (line.startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      } else if (line.startsWith("connection:")) {
        close = line.contains("close");
      }
    }
    if (in.readNBytes(length).length < length) {
      throw new IOException("connection closed in the middle of a response body");
    }
    return new RawResponse(status, close);
  }

  /**
   * Whether the server has closed the connection, seen without sending (a stale check); restores
   * {@code timeoutMillis} as the socket's read timeout.
   */
  public static boolean closedByServer(Socket socket, int timeoutMillis) throws IOException {
    socket.setSoTimeout(1);
    try {
      return socket.getInputStream().read() == -1;
    } catch (SocketTimeoutException open) {
      return false;
    } finally {
      socket.setSoTimeout(timeoutMillis);
    }
  }
}
