package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process runtime's output as CRI log lines, and back as the program wrote it. */
class CriLogWriterTest {
  @TempDir Path dir;

  @Test
  void linesGetTheTimeTheyWereReadLongOnesComeInPartsTheLastWhole() throws Exception {
    Path log = dir.resolve("0.log");
    String longLine = "x".repeat(CriLogWriter.MAX_LINE + 5);
    byte[] output = ("one\ntwo\n" + longLine + "\nlast").getBytes(StandardCharsets.UTF_8);
    Clock clock = Clock.fixed(Instant.parse("2026-12-07T07:00:01.250Z"), ZoneOffset.UTC);
    new CriLogWriter(new ByteArrayInputStream(output), log, clock, "t")
        .awaitEnd(Duration.ofSeconds(10));
    assertThat(Files.readAllLines(log))
        .containsExactly(
            "2026-12-07T07:00:01.250Z stdout F one",
            "2026-12-07T07:00:01.250Z stdout F two",
            "2026-12-07T07:00:01.250Z stdout P " + "x".repeat(CriLogWriter.MAX_LINE),
            "2026-12-07T07:00:01.250Z stdout F xxxxx",
            "2026-12-07T07:00:01.250Z stdout F last");
    // read back with the kubelet's options: the program's bytes, the long line joined again
    try (var s =
        new ContainerLogs.FileStream(
            log, PodLogs.LogOptions.of("c"), PodRuntime.LogFormat.CRI, () -> true)) {
      assertThat(new String(s.readAvailable(), StandardCharsets.UTF_8))
          .isEqualTo("one\ntwo\n" + longLine + "\nlast\n");
    }
  }

  @Test
  void attachSeesWhatIsWrittenFromNowOnAsTheProgramWroteIt() throws Exception {
    Path log = dir.resolve("0.log");
    PipedOutputStream program = new PipedOutputStream();
    PipedInputStream pipe = new PipedInputStream(program, 65536);
    CriLogWriter w = new CriLogWriter(pipe, log, Clock.systemUTC(), "t");
    program.write("before attach\n".getBytes(StandardCharsets.UTF_8));
    program.flush();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (Files.size(log) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    AtomicBoolean ended = new AtomicBoolean();
    try (LogTail tail = new LogTail(log, ended::get)) {
      program.write("part-".getBytes(StandardCharsets.UTF_8));
      program.write("ial\nafter\n".getBytes(StandardCharsets.UTF_8));
      program.close();
      w.awaitEnd(Duration.ofSeconds(10));
      ended.set(true);
      assertThat(new String(tail.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("part-ial\nafter\n");
    }
  }

  @Test
  void rotationLosesNoLine() throws Exception {
    Path log = dir.resolve("0.log");
    PipedOutputStream program = new PipedOutputStream();
    CriLogWriter w =
        new CriLogWriter(new PipedInputStream(program, 65536), log, Clock.systemUTC(), "t");
    Thread writer =
        new Thread(
            () -> {
              try (program) {
                for (int i = 0; i < 3000; i++) {
                  program.write(("line-" + i + "\n").getBytes(StandardCharsets.UTF_8));
                }
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    writer.start();
    StringBuilder rotated = new StringBuilder();
    for (int r = 0; r < 20 && writer.isAlive(); r++) {
      w.rotate(dir.resolve("0.log.1"));
      rotated.append(Files.readString(dir.resolve("0.log.1")));
      Thread.sleep(2);
    }
    writer.join();
    w.awaitEnd(Duration.ofSeconds(10));
    String all = rotated + Files.readString(log);
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 3000; i++) {
      expected.append("line-").append(i).append('\n');
    }
    assertThat(all.lines().map(l -> l.split(" ", 4)[3] + "\n").reduce("", String::concat))
        .isEqualTo(expected.toString());
  }
}
