package io.conea.demo;

import java.nio.charset.StandardCharsets;

/**
 * What the API answers: a status, a content type, an optional content encoding and a body.
 *
 * @param status the HTTP status code
 * @param contentType the Content-Type header value
 * @param contentEncoding the Content-Encoding header value, or null
 * @param body the response body
 */
record ApiResponse(int status, String contentType, String contentEncoding, byte[] body) {

  static ApiResponse json(int status, String json) {
    return new ApiResponse(status, "application/json", null, json.getBytes(StandardCharsets.UTF_8));
  }
}
