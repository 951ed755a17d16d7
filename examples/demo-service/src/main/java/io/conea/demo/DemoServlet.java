package io.conea.demo;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/** Serves the demo's API from Jetty, going asynchronous when the answer comes later. */
final class DemoServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;
  static final int MAX_BODY_BYTES = 1 << 20;
  private static final long ASYNC_TIMEOUT_MILLIS = DemoApi.MAX_SLOW_MILLIS + 5_000;

  private final transient DemoApi api;

  DemoServlet(DemoApi api) {
    this.api = api;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    if (request.getContentLengthLong() > MAX_BODY_BYTES) {
      write(response, DemoApi.error(413, "request body larger than " + MAX_BODY_BYTES + " bytes"));
      return;
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (body.length > MAX_BODY_BYTES) {
      write(response, DemoApi.error(413, "request body larger than " + MAX_BODY_BYTES + " bytes"));
      return;
    }
    String path = request.getRequestURI().substring(request.getContextPath().length());
    ApiRequest apiRequest =
        new ApiRequest(
            request.getMethod(),
            path,
            Queries.parse(request.getQueryString()),
            request::getHeader,
            body);
    CompletableFuture<ApiResponse> answer = api.handle(apiRequest);
    if (answer.isDone()) {
      write(response, answer.join());
      return;
    }
    AsyncContext async = request.startAsync();
    async.setTimeout(ASYNC_TIMEOUT_MILLIS);
    answer.whenComplete(
        (apiResponse, failure) -> {
          try {
            write(
                (HttpServletResponse) async.getResponse(),
                failure == null ? apiResponse : DemoApi.error(500, "internal error"));
          } catch (IOException | RuntimeException e) {
            // The client went away or the request timed out; nothing left to answer.
          } finally {
            try {
              async.complete();
            } catch (IllegalStateException alreadyCompleted) {
              // The container completed the request on timeout.
            }
          }
        });
  }

  private static void write(HttpServletResponse response, ApiResponse apiResponse)
      throws IOException {
    response.setStatus(apiResponse.status());
    response.setContentType(apiResponse.contentType());
    if (apiResponse.contentEncoding() != null) {
      response.setHeader("Content-Encoding", apiResponse.contentEncoding());
    }
    response.setContentLength(apiResponse.body().length);
    response.getOutputStream().write(apiResponse.body());
  }
}
