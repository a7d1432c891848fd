package io.kedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherArchiveTest {
  @TempDir Path dir;

  @AfterEach
  void clear() {
    System.clearProperty(LauncherArchive.DUMP_PROPERTY);
  }

  @Test
  void writingCredentialsMarksTheRunsArchiveOnceAndNothingWithoutOne() throws Exception {
    Path cert = dir.resolve("ca.crt");
    String pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";

    Pem.write(cert, pem, false);
    try (var files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactly("ca.crt");
    }

    Path dump = dir.resolve("edgecore-1.2.3.jsa.tmp");
    System.setProperty(LauncherArchive.DUMP_PROPERTY, dump.toString());
    Pem.write(dir.resolve("node.key"), pem, true);
    Pem.write(dir.resolve("other.crt"), pem, false);

    assertThat(Path.of(dump + ".skip")).content().isEqualTo("wrote node.key\n");
    assertThat(dump).doesNotExist();
  }
}
