package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PathsTest {

  @Test
  void identifierSegmentsBecomeIdPlaceholders() {
    assertThat(Paths.normalize("/api/v1/users/42")).isEqualTo("/api/v1/users/{id}");
    assertThat(Paths.normalize("/users/123e4567-e89b-12d3-a456-426614174000/orders/7"))
        .isEqualTo("/users/{id}/orders/{id}");
    assertThat(Paths.normalize("/users/abcdefab-abcd-abcd-abcd-abcdefabcdef"))
        .isEqualTo("/users/{id}");
    assertThat(Paths.normalize("/objects/507f1f77bcf86cd799439011")).isEqualTo("/objects/{id}");
    assertThat(Paths.normalize("/objects/deadbeefdeadbeef")).isEqualTo("/objects/{id}");
    assertThat(Paths.normalize("/keys/sk_live_4eC39HqLyjWDarjtT1zdp7dc")).isEqualTo("/keys/{id}");
    assertThat(Paths.normalize("/reports/2025-05-26")).isEqualTo("/reports/{id}");
  }

  @Test
  void wordsVersionsAndShortTokensStay() {
    assertThat(Paths.normalize("/api/v1/ai/chat")).isEqualTo("/api/v1/ai/chat");
    assertThat(Paths.normalize("/static/app.js")).isEqualTo("/static/app.js");
    assertThat(Paths.normalize("/users/me/preferences")).isEqualTo("/users/me/preferences");
    assertThat(Paths.normalize("/oauth2/authorize")).isEqualTo("/oauth2/authorize");
    assertThat(Paths.normalize("/deadbeef")).isEqualTo("/deadbeef");
  }

  @Test
  void queryFragmentMatrixParametersAndExtraSlashesAreDropped() {
    assertThat(Paths.normalize("/a/b?x=1&y=2")).isEqualTo("/a/b");
    assertThat(Paths.normalize("/a/b#section")).isEqualTo("/a/b");
    assertThat(Paths.normalize("/a;jsessionid=1/b")).isEqualTo("/a/b");
    assertThat(Paths.normalize("//a///b//")).isEqualTo("/a/b");
    assertThat(Paths.normalize("/")).isEqualTo("/");
    assertThat(Paths.normalize("?only=query")).isEqualTo("/");
    assertThat(Paths.normalize("")).isEqualTo("/");
  }

  @Test
  void absoluteUrlsKeepOnlyThePath() {
    assertThat(Paths.normalize("http://example.test/a/42?b")).isEqualTo("/a/{id}");
    assertThat(Paths.normalize("HTTPS://example.test:8443")).isEqualTo("/");
    assertThat(Paths.normalize("https://example.test?x=/y")).isEqualTo("/");
  }

  @Test
  void aPathIsNormalExactlyWhenNormalisingLeavesItUnchanged() {
    Random random = new Random(3);
    String alphabet = "/ab9Z-_.?#;:%{}é";
    for (int i = 0; i < 200_000; i++) {
      StringBuilder path = new StringBuilder();
      int length = random.nextInt(24);
      for (int j = 0; j < length; j++) {
        path.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      if (random.nextInt(10) == 0) {
        path.insert(0, "http://h");
      }
      String p = path.toString();
      String normalized = Paths.normalize(p);
      if (Paths.isNormal(p)) {
        assertThat(normalized).as("normalize(%s)", p).isEqualTo(p);
      } else if (!p.isEmpty()) {
        assertThat(normalized).as("normalize(%s)", p).isNotEqualTo(p);
      }
      assertThat(Paths.isNormal(normalized) || normalized.equals("/"))
          .as("normalize(%s) = %s is normal", p, normalized)
          .isTrue();
    }
  }
}
