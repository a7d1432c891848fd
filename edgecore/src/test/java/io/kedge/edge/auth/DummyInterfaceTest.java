package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Sets the MetaServer address up inside a network namespace the test creates (needs root). */
class DummyInterfaceTest {

  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return p.exitValue() + ":" + out;
  }

  @Test
  void putsTheAddressOnALinkInsideANamespace() throws Exception {
    String ns = "kedge-auth-" + UUID.randomUUID().toString().substring(0, 8);
    Prerequisites.require(
        run("ip", "netns", "add", ns).startsWith("0:"), "root and iproute2 (ip netns add)");
    try {
      DummyInterface d = new DummyInterface(List.of("ip", "netns", "exec", ns));
      DummyInterface.Outcome o = d.ensure("169.254.30.10");
      assertThat(o.ok()).as(o.how()).isTrue();
      assertThat(run("ip", "-n", ns, "-o", "addr", "show")).contains("169.254.30.10/32");
      // idempotent, as on every edgecore start
      assertThat(d.ensure("169.254.30.10").ok()).isTrue();
      assertThat(d.ensure("127.0.0.2").how()).contains("loopback");
      assertThat(d.ensure("not-an-ip.invalid").ok()).isFalse();
    } finally {
      run("ip", "netns", "del", ns);
    }
  }
}
