package io.conea.tracing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;

/**
 * Requests written to a raw socket, byte for byte, for what HTTP clients refuse to send or to see
 * exactly when a server answers and closes.
 */
public final class RawHttp {

  private RawHttp() {}

  /** Writes {@code request} as it stands (ISO-8859-1) and flushes. */
  public static void send(Socket socket, String request) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(ISO_8859_1));
    out.flush();
  }

  /** Sends {@code GET target} with a Host header and nothing else: a keep-alive request. */
  public static void get(Socket socket, String target) throws IOException {
    send(socket, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }

  /** The first line of the answer; empty when the connection ends before one. */
  public static String statusLine(Socket socket) throws IOException {
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1));
    String line = reader.readLine();
    return line == null ? "" : line;
  }

  /** Sends one request on a new connection and returns the status line of the answer. */
  public static String exchange(int port, String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      send(socket, request);
      return statusLine(socket);
    }
  }
}
