package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Selecting lines of a CRI log file as the kubelet does for {@code kubectl logs}. */
class ContainerLogsTest {
  @TempDir Path dir;

  // Times as containerd writes them (RFC3339Nano drops trailing zeros), one with an offset.
  static final String LOG =
      "2026-12-07T07:00:00.5Z stdout F early-1\n"
          + "2026-12-07T07:00:01.123456789Z stderr F early-2\n"
          + "2026-12-07T07:00:10Z stdout P late-\n"
          + "2026-12-07T07:00:10.000000001Z stdout F 1\n"
          + "2026-12-07T08:00:11+01:00 stdout F late-2\n";

  static final Instant GAP = Instant.parse("2026-12-07T07:00:05Z");

  String read(PodLogs.LogOptions o) throws Exception {
    Path f = dir.resolve("0.log");
    if (!Files.exists(f)) {
      Files.writeString(f, LOG);
    }
    try (var s = new ContainerLogs.FileStream(f, o, PodRuntime.LogFormat.CRI, () -> true)) {
      return new String(s.readAvailable(), StandardCharsets.UTF_8);
    }
  }

  static PodLogs.LogOptions since(Instant since, long tail, long limit, boolean timestamps) {
    return new PodLogs.LogOptions("app", false, tail, limit, timestamps, since);
  }

  @Test
  void withoutOptionsTheProgramsOutput() throws Exception {
    assertThat(read(PodLogs.LogOptions.of("app"))).isEqualTo("early-1\nearly-2\nlate-1\nlate-2\n");
  }

  @Test
  void sinceLeavesOutOlderLinesAndKeepsOnesAtThatInstant() throws Exception {
    assertThat(read(since(GAP, -1, -1, false))).isEqualTo("late-1\nlate-2\n");
    // the first part of late-1 was written at exactly 07:00:10: not before, so kept
    assertThat(read(since(Instant.parse("2026-12-07T07:00:10Z"), -1, -1, false)))
        .isEqualTo("late-1\nlate-2\n");
    // ... and one nanosecond later only its second part is
    assertThat(read(since(Instant.parse("2026-12-07T07:00:10.000000001Z"), -1, -1, false)))
        .isEqualTo("1\nlate-2\n");
    // the +01:00 line is 07:00:11 UTC
    assertThat(read(since(Instant.parse("2026-12-07T07:00:11Z"), -1, -1, false)))
        .isEqualTo("late-2\n");
    assertThat(read(since(Instant.parse("2026-12-07T07:00:11.000000001Z"), -1, -1, false)))
        .isEmpty();
  }

  @Test
  void timestampsHaveNineDigitsTheLinesOffsetAndPrefixOnlyWhereALineStarts() throws Exception {
    assertThat(read(since(null, -1, -1, true)))
        .isEqualTo(
            "2026-12-07T07:00:00.500000000Z early-1\n"
                + "2026-12-07T07:00:01.123456789Z early-2\n"
                + "2026-12-07T07:00:10.000000000Z late-1\n"
                + "2026-12-07T08:00:11.000000000+01:00 late-2\n");
  }

  @Test
  void tailTakesTheLastLinesOfTheFileThenSinceFiltersThem() throws Exception {
    // the kubelet counts the file's lines (the two parts of late-1 are two)
    assertThat(read(since(null, 2, -1, false))).isEqualTo("1\nlate-2\n");
    assertThat(read(since(null, 3, -1, false))).isEqualTo("late-1\nlate-2\n");
    assertThat(read(since(GAP, 4, -1, false))).isEqualTo("late-1\nlate-2\n");
    assertThat(read(since(GAP, 1, -1, false))).isEqualTo("late-2\n");
    assertThat(read(since(GAP, 0, -1, false))).isEmpty();
  }

  @Test
  void limitBytesCountsTheTimestampsToo() throws Exception {
    assertThat(read(since(null, -1, 10, false))).isEqualTo("early-1\nea");
    assertThat(read(since(GAP, -1, 35, true))).isEqualTo("2026-12-07T07:00:10.000000000Z late");
  }

  @Test
  void followingKeepsFilteringWhatIsWrittenLater() throws Exception {
    Path f = dir.resolve("0.log");
    Files.writeString(f, LOG);
    Instant future = Instant.parse("2026-12-07T07:01:00Z");
    try (var s =
        new ContainerLogs.FileStream(
            f, since(future, -1, -1, true), PodRuntime.LogFormat.CRI, () -> false)) {
      assertThat(s.readAvailable()).isEmpty();
      Files.writeString(
          f,
          "2026-12-07T07:00:59Z stdout F too-early\n2026-12-07T07:01:00.25Z stdout F now\n",
          StandardOpenOption.APPEND);
      assertThat(new String(s.readAvailable(), StandardCharsets.UTF_8))
          .isEqualTo("2026-12-07T07:01:00.250000000Z now\n");
    }
  }

  // ---------------------------------------------------------------- the query, as the kubelet

  static final Instant NOW = Instant.parse("2026-12-07T07:30:00Z");

  static PodLogs.LogOptions query(Map<String, String> q) throws PodLogs.PodLogException {
    Map<String, List<String>> m = new java.util.LinkedHashMap<>();
    q.forEach((k, v) -> m.put(k, List.of(v)));
    return PodLogs.LogOptions.fromQuery("app", m, NOW);
  }

  @Test
  void sinceSecondsCountsBackFromNowAndSinceTimeTakesAnOffset() throws Exception {
    assertThat(query(Map.of("sinceSeconds", "90")).since())
        .isEqualTo(Instant.parse("2026-12-07T07:28:30Z"));
    assertThat(query(Map.of("sinceTime", "2026-12-07T08:00:05+01:00")).since())
        .isEqualTo(Instant.parse("2026-12-07T07:00:05Z"));
    assertThat(query(Map.of("sinceTime", "2026-12-07T07:00:05.25Z")).since())
        .isEqualTo(Instant.parse("2026-12-07T07:00:05.250Z"));
    assertThat(query(Map.of()))
        .isEqualTo(new PodLogs.LogOptions("app", false, -1, -1, false, null));
    assertThat(
            query(
                Map.of("tailLines", "3", "limitBytes", "7", "timestamps", "true", "previous", "1")))
        .isEqualTo(new PodLogs.LogOptions("app", true, 3, 7, true, null));
    assertThat(query(Map.of("timestamps", "false", "previous", "0")))
        .isEqualTo(PodLogs.LogOptions.of("app"));
  }

  @Test
  void undecodableValuesAre400AndInvalidOnes422AsTheKubeletAnswers() {
    assertRefused(Map.of("sinceTime", "yesterday"), 400, "sinceTime");
    assertRefused(Map.of("sinceSeconds", "ten"), 400, "sinceSeconds");
    assertRefused(Map.of("tailLines", "1.5"), 400, "tailLines");
    assertRefused(Map.of("sinceSeconds", "0"), 422, "sinceSeconds: Invalid value: 0");
    assertRefused(Map.of("sinceSeconds", "-5"), 422, "sinceSeconds: Invalid value: -5");
    assertRefused(Map.of("tailLines", "-1"), 422, "tailLines: Invalid value: -1");
    assertRefused(Map.of("limitBytes", "0"), 422, "limitBytes: Invalid value: 0");
    assertRefused(
        Map.of("sinceSeconds", "5", "sinceTime", "2026-12-07T07:00:05Z"),
        422,
        "at most one of `sinceTime` or `sinceSeconds`");
  }

  static void assertRefused(Map<String, String> q, int code, String text) {
    assertThatThrownBy(() -> query(q))
        .isInstanceOfSatisfying(
            PodLogs.PodLogException.class, e -> assertThat(e.code()).isEqualTo(code))
        .hasMessageContaining(text);
  }
}
