package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * keadm's runnable jar (what bin/keadm runs) carries the local control plane but no test library:
 * the control plane lives in module controlplane, not in testkit.
 */
class KeadmJarIT {

  @Test
  void runnableJarHasTheControlPlaneAndNoTestLibraries() throws Exception {
    Path jar = Path.of("target", "kedge-keadm-all.jar");
    assertThat(jar).exists();
    try (JarFile j = new JarFile(jar.toFile())) {
      List<String> names = j.stream().map(e -> e.getName()).toList();
      assertThat(names)
          .contains(
              "io/kedge/controlplane/ControlPlane.class",
              "io/kedge/controlplane/ServiceAccountKubeconfig.class");
      assertThat(names)
          .filteredOn(
              n ->
                  n.startsWith("org/junit/")
                      || n.startsWith("org/awaitility/")
                      || n.startsWith("org/hamcrest/")
                      || n.startsWith("org/opentest4j/")
                      || n.startsWith("io/kedge/testkit/"))
          .isEmpty();
    }
    assertThat(Files.size(jar)).isPositive();
  }
}
