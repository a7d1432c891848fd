package io.kedge.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one section of BENCHMARKS.md (between {@code <!-- bench:NAME -->} markers), leaving the
 * other sections as they are, so that every benchmark records its own numbers with the command that
 * produced them.
 */
public final class BenchmarkReport {
  private final String name;
  private final String title;
  private final String command;
  private final List<String> lines = new ArrayList<>();

  private BenchmarkReport(String name, String title, String command) {
    this.name = name;
    this.title = title;
    this.command = command;
  }

  /**
   * @param name marker name, e.g. {@code control-plane}
   * @param title section heading
   * @param command the exact command that reproduces the section
   */
  public static BenchmarkReport section(String name, String title, String command) {
    return new BenchmarkReport(name, title, command);
  }

  public BenchmarkReport line(String text) {
    lines.add(text);
    return this;
  }

  /** Adds a Markdown table. */
  public BenchmarkReport table(List<String> header, List<List<String>> rows) {
    lines.add("| " + String.join(" | ", header) + " |");
    lines.add("|" + "---|".repeat(header.size()));
    for (List<String> r : rows) {
      lines.add("| " + String.join(" | ", r) + " |");
    }
    lines.add("");
    return this;
  }

  /** The machine the numbers come from, in one line. */
  public static String machine() {
    int cpus = Runtime.getRuntime().availableProcessors();
    String kernel = System.getProperty("os.name") + " " + System.getProperty("os.version");
    return cpus + " cores, " + kernel + ", Java " + System.getProperty("java.version");
  }

  /** Replaces (or appends) this section in {@code $kedge.home/BENCHMARKS.md}. */
  public void write() {
    Path file = home().resolve("BENCHMARKS.md");
    String begin = "<!-- bench:" + name + " -->";
    String end = "<!-- /bench:" + name + " -->";
    StringBuilder body = new StringBuilder();
    body.append(begin).append('\n');
    body.append("## ").append(title).append("\n\n");
    body.append("Measured ")
        .append(LocalDate.now(ZoneOffset.UTC))
        .append(" on ")
        .append(machine())
        .append(".  \n");
    body.append("Command: `").append(command).append("`\n\n");
    for (String l : lines) {
      body.append(l).append('\n');
    }
    body.append(end);
    try {
      String text =
          Files.exists(file)
              ? Files.readString(file, StandardCharsets.UTF_8)
              : "# Benchmarks\n\nEvery section is written by a benchmark in the `bench` module "
                  + "(Maven profile `bench`, never run in CI) and names the command that produced it.\n";
      int b = text.indexOf(begin);
      int e = text.indexOf(end);
      if (b >= 0 && e > b) {
        text = text.substring(0, b) + body + text.substring(e + end.length());
      } else {
        text = text.stripTrailing() + "\n\n" + body + "\n";
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** The load average (1, 5, 15 min): the machine is shared, and the numbers depend on it. */
  public static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " / " + f[1] + " / " + f[2] + " (1/5/15 min)";
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  static Path home() {
    String h = System.getProperty("kedge.home");
    return h == null ? Path.of(".").toAbsolutePath() : Path.of(h);
  }
}
