package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JoinTokenTest {
  private static final String HASH = "AB".repeat(32);

  @Test
  void splitsHashFromJwt() {
    JoinToken t = JoinToken.parse(" " + HASH + ".eyJh.eyJl.c2ln\n");
    assertThat(t.caHash()).isEqualTo("ab".repeat(32));
    assertThat(t.jwt()).isEqualTo("eyJh.eyJl.c2ln");
    assertThat(t.toString()).doesNotContain("eyJ");
  }

  @Test
  void rejectsMalformedTokens() {
    assertThatThrownBy(() -> JoinToken.parse("")).hasMessageContaining("no join token");
    assertThatThrownBy(() -> JoinToken.parse("abc.d.e.f")).hasMessageContaining("malformed");
    assertThatThrownBy(() -> JoinToken.parse(HASH)).hasMessageContaining("malformed");
    assertThatThrownBy(() -> JoinToken.parse(HASH + ".onlyone")).hasMessageContaining("no JWT");
  }
}
