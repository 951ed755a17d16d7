package io.conea.metrics.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestTargetsTest {

  @Test
  void pathAndQueryOfOriginAndAbsoluteFormTargets() {
    String plain = "/api/v1/users/42";
    assertThat(RequestTargets.path(plain)).isSameAs(plain);
    assertThat(RequestTargets.query(plain)).isNull();
    assertThat(RequestTargets.path("/a?b=1#f")).isEqualTo("/a");
    assertThat(RequestTargets.query("/a?b=1#f")).isEqualTo("b=1");
    assertThat(RequestTargets.path("/a#f?x")).isEqualTo("/a");
    assertThat(RequestTargets.path("http://user:secret@host:8080/p/q?x=1")).isEqualTo("/p/q");
    assertThat(RequestTargets.query("http://user:secret@host:8080/p/q?x=1")).isEqualTo("x=1");
    assertThat(RequestTargets.path("http://host")).isEqualTo("/");
    assertThat(RequestTargets.path("http://host?x=1")).isEqualTo("/");
    assertThat(RequestTargets.query("http://host?x=1")).isEqualTo("x=1");
    assertThat(RequestTargets.path("*")).isEqualTo("*");
    assertThat(RequestTargets.path("/x://y")).isEqualTo("/x://y");
  }

  @Test
  void pathParametersAreRemovedFromEverySegment() {
    String plain = "/api/v1/users/42";
    assertThat(RequestTargets.withoutPathParameters(plain)).isSameAs(plain);
    assertThat(RequestTargets.withoutPathParameters("/api/v1/users/42;jsessionid=secret"))
        .isEqualTo("/api/v1/users/42");
    assertThat(RequestTargets.withoutPathParameters("/a;x=1/b;y=2;z/c")).isEqualTo("/a/b/c");
    assertThat(RequestTargets.withoutPathParameters(";jsessionid=secret/api")).isEqualTo("/api");
    assertThat(RequestTargets.withoutPathParameters("/;p")).isEqualTo("/");
    assertThat(RequestTargets.withoutPathParameters(";p")).isEmpty();
  }

  @Test
  void methodsAreTheNineStandardOnesAsSentElseOther() {
    for (String method :
        new String[] {
          "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"
        }) {
      assertThat(HttpMethods.canonical(method)).isSameAs(method.intern());
      assertThat(HttpMethods.label(HttpMethods.index(method))).isEqualTo(method);
    }
    assertThat(HttpMethods.canonical("get")).isEqualTo("_OTHER");
    assertThat(HttpMethods.canonical("PROPFIND")).isEqualTo("_OTHER");
    assertThat(HttpMethods.canonical(null)).isEqualTo("_OTHER");
    assertThat(HttpMethods.COUNT).isEqualTo(10);
  }
}
