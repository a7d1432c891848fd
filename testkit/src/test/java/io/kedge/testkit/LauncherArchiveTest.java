package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launchers' class-data archive ({@code kedge_cds_flags} in {@code scripts/lib/launcher.sh}):
 * which archive a first run's file becomes, run through bash with the JVM this test runs on.
 */
class LauncherArchiveTest {
  private static final Pattern DUMP =
      Pattern.compile(
          "-XX:ArchiveClassesAtExit=(\\S+/edgecore-(\\d+))\\.(\\d+)\\.(\\d+)\\.jsa\\.tmp"
              + " -Dkedge\\.cds\\.dump=\\1\\.\\3\\.\\4\\.jsa\\.tmp");

  @TempDir Path dir;
  private Path jar;
  private String java;

  @BeforeEach
  void jar() throws IOException {
    jar = dir.resolve("app.jar");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(jar))) {
      z.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
      z.write("Manifest-Version: 1.0\n".getBytes());
      z.closeEntry();
    }
    java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private String flags(String javaBinary) throws Exception {
    Path root = Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
    ProcessBuilder pb =
        new ProcessBuilder(
                "/bin/bash",
                "-c",
                "source \"$1\"; kedge_cds_flags edgecore \"$2\" \"$3\"",
                "test",
                root.resolve("scripts/lib/launcher.sh").toString(),
                javaBinary,
                jar.toString())
            .redirectErrorStream(true);
    pb.environment().put("KEDGE_CDS_DIR", dir.resolve("cds").toString());
    pb.environment().remove("KEDGE_CDS");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.strip();
  }

  /** The pid of a process that has exited. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  /**
   * The file a run that started two minutes ago as a process that has exited would have left:
   * {@code prefix.PID.STARTED.jsa.tmp}.
   */
  private static Path leftByAFinishedRun(String firstFlags) throws Exception {
    Matcher m = DUMP.matcher(firstFlags);
    assertThat(m.find()).as(firstFlags).isTrue();
    long started = System.currentTimeMillis() / 1000 - 120;
    return Path.of(m.group(1) + "." + deadPid() + "." + started + ".jsa.tmp");
  }

  /** What a JVM run with the launcher's flags writes at exit, into {@code file}. */
  private void archiveInto(Path file) throws Exception {
    Process dump =
        new ProcessBuilder(
                java, "-XX:ArchiveClassesAtExit=" + file, "-cp", jar.toString(), "-version")
            .redirectErrorStream(true)
            .start();
    dump.getInputStream().readAllBytes();
    assertThat(dump.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(file).isNotEmptyFile();
  }

  @Test
  void aCompleteArchiveFromARunOfAMinuteIsUsedFromTheNextStart() throws Exception {
    Path left = leftByAFinishedRun(flags(java));
    archiveInto(left);

    String next = flags(java);

    assertThat(next).startsWith("-XX:SharedArchiveFile=").endsWith(".jsa");
    Path archive = Path.of(next.substring("-XX:SharedArchiveFile=".length()));
    assertThat(archive).isNotEmptyFile();
    assertThat(left).doesNotExist();
    assertThat(flags(java)).isEqualTo(next);
  }

  @Test
  void aFileTheJvmCannotMapIsDroppedAndTheNextRunArchivesAgain() throws Exception {
    // A JVM stopped before it wrote the archive's header leaves zeros there; a JVM given such a
    // file runs without sharing and says nothing, so only -Xshare:on tells it apart.
    Path left = leftByAFinishedRun(flags(java));
    Files.write(left, new byte[1 << 20]);

    String next = flags(java);

    assertThat(next).matches(DUMP.pattern());
    assertThat(left).doesNotExist();
    try (var files = Files.list(dir.resolve("cds"))) {
      assertThat(files.map(f -> f.getFileName().toString()).toList())
          .noneMatch(f -> f.endsWith(".jsa"));
    }
  }

  @Test
  void anArchiveOfARunThatSaidItJoinedIsDroppedAndALaterRunArchives() throws Exception {
    // A join loads classes (certificate requests, PEM writing) that no later start needs, and all
    // of an archive is resident in every start that maps it.
    String first = flags(java);
    Path left = leftByAFinishedRun(first);
    archiveInto(left);
    Files.writeString(Path.of(left + ".skip"), "wrote node.key\n");

    String next = flags(java);

    assertThat(next).matches(DUMP.pattern());
    assertThat(left).doesNotExist();
    assertThat(Path.of(left + ".skip")).doesNotExist();
  }

  @Test
  void aMarkLeftByARunThatWroteNoArchiveIsRemovedOnceItsProcessEnded() throws Exception {
    Path left = leftByAFinishedRun(flags(java));
    Path mark = Path.of(left + ".skip");
    Files.writeString(mark, "wrote node.key\n");
    // The same mark of a run still going stays: its archive comes when it exits.
    Matcher m = DUMP.matcher(flags(java));
    assertThat(m.find()).isTrue();
    Path running =
        Path.of(
            m.group(1) + "." + ProcessHandle.current().pid() + "." + m.group(4) + ".jsa.tmp.skip");
    Files.writeString(running, "wrote node.key\n");

    flags(java);

    assertThat(mark).doesNotExist();
    assertThat(running).exists();
  }

  @Test
  void aJvmWithoutTheJdksOwnArchiveGetsNoFlags() throws Exception {
    // Such a JVM refuses to start with -XX:ArchiveClassesAtExit; the launcher must not pass it.
    Path bin = Files.createDirectories(dir.resolve("jdk-without-cds/bin"));
    Path fake = bin.resolve("java");
    Files.writeString(fake, "#!/bin/sh\nexec " + java + " \"$@\"\n");
    assertThat(fake.toFile().setExecutable(true)).isTrue();
    Files.createDirectories(dir.resolve("jdk-without-cds/lib/server"));

    assertThat(flags(fake.toString())).isEmpty();
    assertThat(flags(java)).matches(DUMP.pattern());
  }
}
