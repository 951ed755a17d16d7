package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HttpValuesTest {

  @Test
  void queryWithoutSensitiveParametersIsReturnedAsIs() {
    String query = "a=1&b=2&signature_like=3&xsig=4";
    assertThat(HttpValues.redactQuery(query)).isSameAs(query);
  }

  @Test
  void sensitiveParameterValuesAreRedactedWhateverTheirCaseOrPosition() {
    assertThat(HttpValues.redactQuery("x-amz-signature=abc")).isEqualTo("x-amz-signature=REDACTED");
    assertThat(HttpValues.redactQuery("a=1&SIG=zz&b=2")).isEqualTo("a=1&SIG=REDACTED&b=2");
    assertThat(HttpValues.redactQuery("X-Amz-Date=20250101&sig="))
        .isEqualTo("X-Amz-Date=REDACTED&sig=REDACTED");
    assertThat(HttpValues.redactQuery("sig&Signature")).isEqualTo("sig&Signature");
    assertThat(HttpValues.redactQuery("&&Signature=a==b&")).isEqualTo("&&Signature=REDACTED&");
  }

  @Test
  void hostHeaderIsSplitIntoAddressAndPortWithoutUserinfo() {
    assertThat(HttpValues.hostName("example.com")).isEqualTo("example.com");
    assertThat(HttpValues.hostPort("example.com")).isEqualTo(-1);
    assertThat(HttpValues.hostName("u:p@example.com:81")).isEqualTo("example.com");
    assertThat(HttpValues.hostPort("u:p@example.com:81")).isEqualTo(81);
    assertThat(HttpValues.hostName("[::1]:8080")).isEqualTo("::1");
    assertThat(HttpValues.hostPort("[::1]:8080")).isEqualTo(8080);
    assertThat(HttpValues.hostPort("example.com:99999")).isEqualTo(-1);
    assertThat(HttpValues.hostPort("example.com:8x")).isEqualTo(-1);
    assertThat(HttpValues.hostName("[::1")).isNull();
    assertThat(HttpValues.hostName(":80")).isNull();
  }

  @Test
  void protocolIsMappedToItsStableValue() {
    assertThat(HttpValues.protocolVersion("HTTP/1.1")).isEqualTo("1.1");
    assertThat(HttpValues.protocolVersion("HTTP/2.0")).isEqualTo("2");
    assertThat(HttpValues.protocolVersion("SPDY/3")).isNull();
  }

  @Test
  void firstForwardedAddressIsTheClient() {
    assertThat(HttpValues.firstForwardedFor(" 203.0.113.9 , 10.0.0.1")).isEqualTo("203.0.113.9");
    assertThat(HttpValues.firstForwardedFor(",")).isNull();
  }

  @Test
  void baggageWithBrokenEscapesOrNonAsciiIsNotWellFormed() {
    assertThat(HttpValues.isWellFormedEncoded("userId=alice,node=DF%2028;prop")).isTrue();
    assertThat(HttpValues.isWellFormedEncoded("userId=al%zzice")).isFalse();
    assertThat(HttpValues.isWellFormedEncoded("userId=alice%2")).isFalse();
    assertThat(HttpValues.isWellFormedEncoded("userId=\u00e9")).isFalse();
    assertThat(HttpValues.isWellFormedEncoded("k=" + "v".repeat(9000))).isFalse();
  }
}
