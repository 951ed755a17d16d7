package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpValuesTest {

  /** A header value as servlet containers and Netty hand it: each byte one character. */
  private static String asReceived(String value) {
    return new String(value.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  @Test
  void headerBytesThatAreValidUtf8AreDecodedAsUtf8() {
    assertThat(HttpValues.utf8(asReceived("josé-日本-😀"), 512)).isEqualTo("josé-日本-😀");
  }

  @Test
  void asciiAndLatin1HeaderValuesAreKeptAsTheyCame() {
    String ascii = "user-42";
    assertThat(HttpValues.utf8(ascii, 512)).isSameAs(ascii);
    String latin1 = "Jos\u00e9";
    assertThat(HttpValues.utf8(latin1, 512)).isSameAs(latin1);
    // Already decoded by the transport: characters above 0xff are no bytes.
    assertThat(HttpValues.utf8("日本", 512)).isEqualTo("日本");
    assertThat(HttpValues.utf8(null, 512)).isNull();
  }

  @Test
  void utf8DecodingLooksAtABoundedPrefixAndDropsASequenceCutThere() {
    String received = asReceived("a".repeat(9) + "é" + "x".repeat(1000));
    // 10 bytes: nine a's and the first byte of é, which is dropped.
    assertThat(HttpValues.utf8(received, 10)).isEqualTo("a".repeat(9));
    assertThat(HttpValues.utf8(received, 11)).isEqualTo("a".repeat(9) + "é");
  }

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
