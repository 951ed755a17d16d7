package io.conea.tracing;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** A transport-free request for driving {@link HttpServerTracing} directly. */
final class FakeRequest {

  static final HttpServerRequestAccessor<FakeRequest> ACCESSOR =
      new HttpServerRequestAccessor<>() {
        @Override
        public String method(FakeRequest request) {
          return request.method;
        }

        @Override
        public String path(FakeRequest request) {
          return request.path;
        }

        @Override
        public String query(FakeRequest request) {
          return request.query;
        }

        @Override
        public String scheme(FakeRequest request) {
          return "http";
        }

        @Override
        public String protocol(FakeRequest request) {
          return "HTTP/1.1";
        }

        @Override
        public String peerAddress(FakeRequest request) {
          return "127.0.0.1";
        }

        @Override
        public String get(FakeRequest request, String key) {
          return request == null ? null : request.headers.get(key.toLowerCase(Locale.ROOT));
        }
      };

  final String method;
  final String path;
  final String query;
  final Map<String, String> headers = new TreeMap<>();

  FakeRequest(String method, String path, String query) {
    this.method = method;
    this.path = path;
    this.query = query;
  }

  static FakeRequest get(String path) {
    return new FakeRequest("GET", path, null);
  }

  FakeRequest header(String name, String value) {
    headers.put(name.toLowerCase(Locale.ROOT), value);
    return this;
  }
}
