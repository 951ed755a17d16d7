package io.conea.tracing.sdk;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1 that decodes ExportTraceServiceRequest payloads with a
 * minimal protobuf wire-format reader, keeping the service name, span names and ids.
 */
public final class OtlpReceiver implements AutoCloseable {

  /** One span as received. */
  public static final class ReceivedSpan {
    public final String serviceName;
    public final String name;
    public final String traceId;
    public final String spanId;
    public final String parentSpanId;

    ReceivedSpan(String serviceName, String name, String traceId, String spanId, String parent) {
      this.serviceName = serviceName;
      this.name = name;
      this.traceId = traceId;
      this.spanId = spanId;
      this.parentSpanId = parent;
    }
  }

  private final HttpServer server;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
  private final List<String> contentTypes = new CopyOnWriteArrayList<>();

  public OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/traces",
        exchange -> {
          try (InputStream body = exchange.getRequestBody()) {
            contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
            spans.addAll(decodeExportRequest(body.readAllBytes()));
          }
          exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
          exchange.sendResponseHeaders(200, 0);
          exchange.close();
        });
    server.start();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public List<ReceivedSpan> spans() {
    return spans;
  }

  public List<String> contentTypes() {
    return contentTypes;
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
  // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
  // Resource { repeated KeyValue attributes = 1; }  KeyValue { string key = 1; AnyValue value = 2;
  // }
  // AnyValue { string string_value = 1; ... }  ScopeSpans { scope = 1; repeated Span spans = 2; }
  // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; }
  static List<ReceivedSpan> decodeExportRequest(byte[] payload) {
    List<ReceivedSpan> result = new ArrayList<>();
    for (Field resourceSpans : Field.all(payload, 1)) {
      String service = null;
      for (Field resource : Field.all(resourceSpans.bytes, 1)) {
        for (Field attribute : Field.all(resource.bytes, 1)) {
          Field key = Field.first(attribute.bytes, 1);
          Field value = Field.first(attribute.bytes, 2);
          if (key != null && key.string().equals("service.name") && value != null) {
            Field string = Field.first(value.bytes, 1);
            service = string == null ? null : string.string();
          }
        }
      }
      for (Field scopeSpans : Field.all(resourceSpans.bytes, 2)) {
        for (Field span : Field.all(scopeSpans.bytes, 2)) {
          Field parent = Field.first(span.bytes, 4);
          result.add(
              new ReceivedSpan(
                  service,
                  Field.first(span.bytes, 5).string(),
                  Field.first(span.bytes, 1).hex(),
                  Field.first(span.bytes, 2).hex(),
                  parent == null ? null : parent.hex()));
        }
      }
    }
    return result;
  }

  /** One length-delimited field of a protobuf message. */
  static final class Field {
    final int number;
    final byte[] bytes;

    Field(int number, byte[] bytes) {
      this.number = number;
      this.bytes = bytes;
    }

    String string() {
      return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    String hex() {
      StringBuilder hex = new StringBuilder();
      for (byte b : bytes) {
        hex.append(String.format("%02x", b));
      }
      return hex.toString();
    }

    static Field first(byte[] message, int number) {
      List<Field> fields = all(message, number);
      return fields.isEmpty() ? null : fields.get(0);
    }

    static List<Field> all(byte[] message, int wanted) {
      List<Field> fields = new ArrayList<>();
      int[] position = {0};
      while (position[0] < message.length) {
        long key = varint(message, position);
        int number = (int) (key >>> 3);
        int wireType = (int) (key & 7);
        switch (wireType) {
          case 0:
            varint(message, position);
            break;
          case 1:
            position[0] += 8;
            break;
          case 2:
            int length = (int) varint(message, position);
            byte[] value = java.util.Arrays.copyOfRange(message, position[0], position[0] + length);
            position[0] += length;
            if (number == wanted) {
              fields.add(new Field(number, value));
            }
            break;
          case 5:
            position[0] += 4;
            break;
          default:
            throw new IllegalArgumentException("Unsupported wire type " + wireType);
        }
      }
      return fields;
    }

    private static long varint(byte[] message, int[] position) {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = message[position[0]++];
        result |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new IllegalArgumentException("Malformed varint");
    }
  }
}
