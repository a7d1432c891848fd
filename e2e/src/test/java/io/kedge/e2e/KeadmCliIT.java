package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue 8, must show 4: help everywhere; bad flags or values give one error line and exit 2. */
class KeadmCliIT {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "init",
        "gettoken",
        "join",
        "reset",
        "start",
        "stop",
        "restart",
        "quickstart",
        "quickstart down",
        "version"
      })
  void helpOfKeadmAndEverySubcommand(String command) {
    List<String> args =
        new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
    args.add("--help");
    Keadm.Result r = Keadm.run(args);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("Usage: keadm" + (command.isEmpty() ? "" : " " + command));
    assertThat(r.out()).contains("--help");
    assertThat(r.err()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "init --unknown-flag",
        "init --kubeedge-version=banana",
        "init --advertise-address=host.example --dry-run",
        "init --dry-run --set cloudCore.modules.cloudHub.websocket.port=many",
        "init --dry-run --set cloudCore.featureGates.requireAuthorisation=true",
        "join --token=abc",
        "join --cloudcore-ipport=10.0.0.1:10000 --certport=x --token=t",
        "join --cloudcore-ipport=10.0.0.1:10000 --edgenode-name=Bad_Name --token=t",
        "restart edgecore --root-dir",
        "stop kubelet",
        "gettoken --kube-config",
        "frobnicate"
      })
  void badFlagsAndValuesGiveOneLineAndExitTwo(String line) {
    Keadm.Result r = Keadm.run(line.split(" "));
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines().toList()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith("keadm").contains("error:");
    assertThat(r.out()).isEmpty();
  }
}
