package io.conea.demo;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Function;

/**
 * One HTTP request as the demo's API sees it, whichever server received it.
 *
 * @param method the request method, upper case
 * @param path the decoded request path, without the query
 * @param query the query parameters (first value of each)
 * @param headers looks up a request header by name (case-insensitive); null when absent
 * @param body the request body, empty when there is none
 */
record ApiRequest(
    String method,
    String path,
    Map<String, String> query,
    Function<String, String> headers,
    byte[] body) {

  String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
