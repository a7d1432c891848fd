package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mount points that do not exist on the host are made on mimics, never on the host. */
class MountPlanTest {
  @TempDir Path tmp;

  @BeforeEach
  void openTemporaryDirectory() throws Exception {
    // As /var/lib/kubeedge is: traversable by everyone.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void ancestorsOthersCannotTraverseShowOnlyThePathToThePods() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path pods = Files.createDirectories(home.resolve("edge/pods"));
    Files.createDirectories(home.resolve("secret"));
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
    Path pod = Files.createDirectories(pods.resolve("uid-1"));
    MountPlan plan = MountPlan.build(tmp.resolve("root"), pods, pod, List.of());
    assertThat(plan.lines())
        .containsExactly(
            "root\t" + tmp.resolve("root"),
            "mimic\t/",
            "mimic\t" + home.toRealPath() + "\tedge",
            "mimic\t" + pods.toRealPath() + "\tuid-1");
  }

  @Test
  void missingMountPointsGoOnAMimicOfTheirDeepestExistingParent() throws Exception {
    Path pods = Files.createDirectories(tmp.resolve("pods"));
    Path pod = Files.createDirectories(pods.resolve("uid-1"));
    Path existing = Files.createDirectories(tmp.resolve("exists"));
    Path vol = Files.createDirectories(pod.resolve("volumes/v"));
    MountPlan plan =
        MountPlan.build(
            tmp.resolve("root"),
            pods,
            pod,
            List.of(
                new ContainerConfig.Mount(vol, existing + "/new/deeper", true),
                new ContainerConfig.Mount(vol, existing.toString(), false),
                new ContainerConfig.Mount(vol, existing + "/inside-volume", false)));
    List<String> lines = plan.lines();
    assertThat(lines.get(0)).isEqualTo("root\t" + tmp.resolve("root"));
    assertThat(lines.get(1)).isEqualTo("mimic\t/");
    assertThat(lines.get(2)).isEqualTo("mimic\t" + pods.toRealPath() + "\tuid-1");
    // Sorted by depth: the existing directory is bound directly; the deeper one lies inside that
    // volume, so its mount point is made in the volume, not on the host or a mimic.
    assertThat(lines.get(3)).isEqualTo("bind\t" + vol + "\t" + existing.toRealPath() + "\trw");
    assertThat(lines)
        .contains("bind\t" + vol + "\t" + existing.toRealPath() + "/inside-volume\trw");
    assertThat(lines).noneMatch(l -> l.startsWith("mimic\t" + existing));
    assertThat(Files.exists(existing.resolve("new"))).isFalse();
  }

  @Test
  void aPathUnderNothingMountedGetsItsParentMimicked() throws Exception {
    Path pods = Files.createDirectories(tmp.resolve("pods"));
    Path pod = Files.createDirectories(pods.resolve("uid-1"));
    Path base = Files.createDirectories(tmp.resolve("base"));
    MountPlan plan =
        MountPlan.build(
            tmp.resolve("root"),
            pods,
            pod,
            List.of(new ContainerConfig.Mount(pod, base + "/a/b", true)));
    assertThat(plan.lines())
        .containsSubsequence(
            "mimic\t" + base.toRealPath(),
            "mkdir\t" + base.toRealPath() + "/a",
            "bind\t" + pod + "\t" + base.toRealPath() + "/a/b\tro");
  }

  @Test
  void relativeAndRootMountPathsAreRefused() {
    Path pod = tmp.resolve("pods/uid");
    assertThatThrownBy(
            () ->
                MountPlan.build(
                    tmp,
                    tmp.resolve("pods"),
                    pod,
                    List.of(new ContainerConfig.Mount(pod, "rel", false))))
        .hasMessageContaining("not absolute");
    assertThatThrownBy(
            () ->
                MountPlan.build(
                    tmp,
                    tmp.resolve("pods"),
                    pod,
                    List.of(new ContainerConfig.Mount(pod, "/", false))))
        .hasMessageContaining("cannot be mounted at /");
  }
}
