package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KeadmMainTest {

  static List<List<String>> commands() {
    return List.of(
        List.of(),
        List.of("init"),
        List.of("gettoken"),
        List.of("join"),
        List.of("reset"),
        List.of("start"),
        List.of("stop"),
        List.of("restart"),
        List.of("quickstart"),
        List.of("quickstart", "down"),
        List.of("version"));
  }

  @ParameterizedTest
  @MethodSource("commands")
  void everyCommandHasHelp(List<String> cmd) {
    String[] args =
        java.util.stream.Stream.concat(cmd.stream(), java.util.stream.Stream.of("--help"))
            .toArray(String[]::new);
    KeadmRun r = KeadmRun.run(args);
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("Usage: keadm" + (cmd.isEmpty() ? "" : " " + String.join(" ", cmd)));
    assertThat(r.out()).contains("-h, --help");
    assertThat(r.err()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "init --no-such-flag",
        "init --kubeedge-version=1.x",
        "init --kubeedge-version=v2.0.0",
        "init --kubeedge-version=v1.16.0",
        "init --advertise-address=not-an-ip --dry-run",
        "init --set cloudCore.modules.dynamicController.enable=maybe --dry-run",
        "init --set cloudCore.modules.noSuchModule.enable=true --dry-run",
        "init --set cloudCore.featureGates.noSuchGate=true --dry-run",
        "init --set nonsense --dry-run",
        "init --dry-run stray",
        "join",
        "join --cloudcore-ipport=1.2.3.4",
        "join --cloudcore-ipport=1.2.3.4:99999 --token=x",
        "join --cloudcore-ipport=1.2.3.4:10000",
        "join --cloudcore-ipport=1.2.3.4:10000 --token=abc",
        "join --cloudcore-ipport=1.2.3.4:10000 --certport=abc",
        "start",
        "start kubelet",
        "stop cloudcore --bogus",
        "gettoken extra",
        "bogus"
      })
  void badFlagsAndValuesGiveOneLineAndExit2(String line) {
    KeadmRun r = KeadmRun.run(line.split(" "));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).contains("error:");
    assertThat(r.out()).isEmpty();
  }

  @org.junit.jupiter.api.Test
  void versionNamesKubeEdgeRelease() {
    KeadmRun r = KeadmRun.run("version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("v1.17.0").contains("Kedge");
  }

  @org.junit.jupiter.api.Test
  void noArgumentsPrintsUsage() {
    KeadmRun r = KeadmRun.run();
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("init")
        .contains("join")
        .contains("gettoken")
        .contains("quickstart");
  }
}
