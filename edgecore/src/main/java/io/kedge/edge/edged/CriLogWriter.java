package io.kedge.edge.edged;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a process's output to its log file as CRI log lines ({@code <time> stdout <F|P> <text>}),
 * as containerd does for its containers, so the kubelet's log options that need times ({@code
 * sinceSeconds}, {@code sinceTime}, {@code timestamps}) work for the process runtime too: each line
 * carries the time it was read from the pipe. stdout and stderr share the pipe (the process runtime
 * has always kept them in one file, in the order written), so every line is labelled stdout. A line
 * longer than containerd's 16 KiB is written in parts (tag {@code P}).
 */
final class CriLogWriter {
  private static final Logger LOG = LoggerFactory.getLogger(CriLogWriter.class);
  static final int MAX_LINE = 16 * 1024;

  private final InputStream in;
  private final Path file;
  private final Clock clock;
  private final FileOutputStream out;
  private final Thread thread;

  /** Starts copying {@code in} (the process's output) to {@code file}, appending. */
  CriLogWriter(InputStream in, Path file, Clock clock, String name) throws IOException {
    this.in = in;
    this.file = file;
    this.clock = clock;
    this.out = new FileOutputStream(file.toFile(), true);
    this.thread = new Thread(this::copy, "edged-log-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private void copy() {
    byte[] buf = new byte[8192];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try (out) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        byte[] time =
            DateTimeFormatter.ISO_INSTANT
                .format(clock.instant())
                .getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            entry(lines, time, 'F', line);
          } else {
            line.write(buf[i]);
            if (line.size() >= MAX_LINE) {
              entry(lines, time, 'P', line);
            }
          }
        }
        write(lines);
      }
      if (line.size() > 0) {
        // The last line without its newline: containerd writes it whole, too.
        ByteArrayOutputStream last = new ByteArrayOutputStream();
        entry(
            last,
            DateTimeFormatter.ISO_INSTANT
                .format(clock.instant())
                .getBytes(StandardCharsets.US_ASCII),
            'F',
            line);
        write(last);
      }
    } catch (IOException e) {
      LOG.warn("edged: stopped writing the log {}: {}", file, e.toString());
    }
  }

  private static void entry(
      ByteArrayOutputStream to, byte[] time, char tag, ByteArrayOutputStream line) {
    to.writeBytes(time);
    to.writeBytes(
        tag == 'F'
            ? " stdout F ".getBytes(StandardCharsets.US_ASCII)
            : " stdout P ".getBytes(StandardCharsets.US_ASCII));
    to.writeBytes(line.toByteArray());
    to.write('\n');
    line.reset();
  }

  private void write(ByteArrayOutputStream lines) throws IOException {
    if (lines.size() == 0) {
      return;
    }
    synchronized (this) {
      lines.writeTo(out);
    }
  }

  /** Copies the log to {@code rotatedTo} and empties it, with no line written in between. */
  synchronized void rotate(Path rotatedTo) throws IOException {
    Files.copy(file, rotatedTo, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
  }

  /**
   * Waits until all the process wrote is in the file (its pipe closed), at most {@code max}: a
   * child it left running may hold the pipe open.
   */
  void awaitEnd(Duration max) {
    try {
      thread.join(Math.max(1, max.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
