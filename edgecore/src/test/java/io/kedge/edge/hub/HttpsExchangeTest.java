package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpsExchangeTest {
  private static HttpsExchange.Response read(String wire, int max) throws IOException {
    return HttpsExchange.read(
        new ByteArrayInputStream(wire.getBytes(StandardCharsets.ISO_8859_1)), "GET", max);
  }

  private static String body(HttpsExchange.Response r) {
    return new String(r.body(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void readsABodyOfContentLength() throws Exception {
    var r = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhelloTRAILING", 100);
    assertThat(r.status()).isEqualTo(200);
    assertThat(body(r)).isEqualTo("hello");
  }

  @Test
  void readsChunkedBodies() throws Exception {
    var r =
        read(
            "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;ext=1\r\nnot \r\nb\r\nauthorized.\r\n0\r\n\r\n",
            100);
    assertThat(r.status()).isEqualTo(403);
    assertThat(body(r)).isEqualTo("not authorized.");
  }

  @Test
  void readsToTheEndWithoutALength() throws Exception {
    var r = read("HTTP/1.0 200 OK\nServer: x\n\nall of it", 100);
    assertThat(r.status()).isEqualTo(200);
    assertThat(body(r)).isEqualTo("all of it");
  }

  @Test
  void refusesOversizedBodies() {
    assertThatThrownBy(
            () -> read("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + "x".repeat(50), 10))
        .isInstanceOf(HttpsExchange.OversizedException.class);
    assertThatThrownBy(
            () ->
                read(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + "x".repeat(32),
                    10))
        .isInstanceOf(HttpsExchange.OversizedException.class);
  }

  @Test
  void truncatedOrGarbledResponsesAreErrors() {
    assertThatThrownBy(() -> read("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", 100))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> read("HTTP/1.1 200 OK\r\nContent-", 100))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> read("SSH-2.0-OpenSSH\r\n\r\n", 100))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not an HTTP/1.x response");
    assertThatThrownBy(() -> read("HTTP/1.1 abc OK\r\n\r\n", 100))
        .hasMessageContaining("bad HTTP status line");
    assertThatThrownBy(() -> read("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 100))
        .hasMessageContaining("bad Content-Length");
  }
}
