package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RouteTemplatesTest {

  private final RouteTemplates routes =
      RouteTemplates.of(
          "/api/v1/users/{id}",
          "/api/v1/users/me",
          "/api/v1/jobs/{jobType}",
          "/api/v1/users/{id}/orders/{orderId}",
          "/");

  @Test
  void variableMatchesExactlyOneSegment() {
    assertThat(routes.resolve("GET", "/api/v1/users/42")).isEqualTo("/api/v1/users/{id}");
    assertThat(routes.resolve("GET", "/api/v1/users/42/orders/7"))
        .isEqualTo("/api/v1/users/{id}/orders/{orderId}");
    assertThat(routes.resolve("GET", "/api/v1/users/42/orders")).isNull();
    assertThat(routes.resolve("GET", "/api/v1/users")).isNull();
    assertThat(routes.resolve("GET", "/api/v1/users/")).isNull();
    assertThat(routes.resolve("GET", "/api/v1/users//orders/7")).isNull();
  }

  @Test
  void literalTemplateWinsOverVariableWhateverTheOrder() {
    assertThat(routes.resolve("GET", "/api/v1/users/me")).isEqualTo("/api/v1/users/me");
  }

  @Test
  void oneTrailingSlashIsIgnored() {
    assertThat(routes.resolve("GET", "/api/v1/jobs/export/")).isEqualTo("/api/v1/jobs/{jobType}");
    assertThat(routes.resolve("GET", "/")).isEqualTo("/");
  }

  @Test
  void pathDepthIsCountedAsTemplatesCountTheirSegments() {
    assertThat(RouteTemplates.segmentCount("/")).isZero();
    assertThat(RouteTemplates.segmentCount("")).isZero();
    assertThat(RouteTemplates.segmentCount("/health")).isEqualTo(1);
    assertThat(RouteTemplates.segmentCount("/api/v1/users/42")).isEqualTo(4);
    assertThat(RouteTemplates.segmentCount("/api/v1/users/42/")).isEqualTo(4);
    assertThat(RouteTemplates.of("/", "/{a}", "/{a}/{b}").resolve("GET", "/x/")).isEqualTo("/{a}");
  }

  @Test
  void unmatchedAndMalformedPathsHaveNoRoute() {
    assertThat(routes.resolve("GET", "/other")).isNull();
    assertThat(routes.resolve("GET", "")).isNull();
    assertThat(routes.resolve("GET", "api/v1/users/1")).isNull();
    assertThat(routes.resolve("GET", null)).isNull();
    assertThat(routes.resolve("GET", "/api/v1/usersX/1")).isNull();
  }

  @Test
  void templateLongerThanTheEndpointLabelCapFailsAtConfiguration() {
    String longest = "/" + "a".repeat(255);
    assertThat(RouteTemplates.of(longest).resolve("GET", longest)).isEqualTo(longest);
    assertThatThrownBy(() -> RouteTemplates.of("/" + "a".repeat(256)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 256 characters")
        .hasMessageContaining("has 257");
  }

  @Test
  void malformedTemplatesFailAtConfiguration() {
    assertThatThrownBy(() -> RouteTemplates.of("api/users"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must start with '/'");
    assertThatThrownBy(() -> RouteTemplates.of("/users/{id"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{id");
    assertThatThrownBy(() -> RouteTemplates.of("/users/x{id}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RouteTemplates.of("/users//x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty segment");
    assertThatThrownBy(() -> RouteTemplates.of((String) null))
        .isInstanceOf(NullPointerException.class);
  }
}
