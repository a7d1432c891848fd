package io.kedge.edge.edged;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Reads and rotates container log files ({@code <pod>/logs/<container>/<restarts>.log}, plus one
 * rotated {@code .log.1}). Plain logs are the process's bytes; CRI logs are turned back into them.
 */
final class ContainerLogs implements PodLogs {
  private final BiFunction<String, String, Optional<PodWorker>> pods;
  private final PodRuntime runtime;

  ContainerLogs(BiFunction<String, String, Optional<PodWorker>> pods, PodRuntime runtime) {
    this.pods = pods;
    this.runtime = runtime;
  }

  @Override
  public LogStream open(String namespace, String podName, LogOptions o) throws PodLogException {
    PodWorker w =
        pods.apply(namespace, podName).orElseThrow(() -> PodLogException.notFound(podName));
    Map<String, ContainerRecord> containers = w.containers();
    String cname = o.container() == null ? "" : o.container();
    if (cname.isEmpty()) {
      List<String> app = new ArrayList<>();
      List<String> init = new ArrayList<>();
      for (ContainerRecord r : containers.values()) {
        (r.init ? init : app).add(r.name);
      }
      if (app.size() != 1) {
        throw PodLogException.badRequest(
            "a container name must be specified for pod "
                + podName
                + ", choose one of: "
                + app.toString().replace(",", "")
                + (init.isEmpty()
                    ? ""
                    : " or one of the init containers: " + init.toString().replace(",", "")));
      }
      cname = app.get(0);
    }
    ContainerRecord r = containers.get(cname);
    if (r == null) {
      throw PodLogException.badRequest("container " + cname + " is not valid for pod " + podName);
    }
    int index;
    if (o.previous()) {
      index = r.current != null ? r.restartCount - 1 : r.restartCount - 2;
      if (r.lastTerminated == null || index < 0) {
        throw PodLogException.badRequest(
            "previous terminated container \"" + cname + "\" in pod \"" + podName + "\" not found");
      }
    } else if (r.current != null) {
      index = r.restartCount;
    } else if (r.lastTerminated != null) {
      index = r.restartCount - 1;
    } else {
      throw PodLogException.badRequest(
          "container \""
              + cname
              + "\" in pod \""
              + podName
              + "\" is waiting to start: "
              + r.waitingReason);
    }
    Path file = w.podDirectory().resolve("logs").resolve(cname).resolve(index + ".log");
    boolean live = !o.previous() && r.current != null && r.running();
    String id = r.id;
    return new FileStream(file, o, runtime.logFormat(), () -> !live || !stillRunning(w, id));
  }

  private boolean stillRunning(PodWorker w, String id) {
    return id != null && runtime.containerState(id).map(ContainerState::running).orElse(false);
  }

  /** Rotates the running containers' logs that grew past {@code maxBytes}. */
  void rotate(PodWorker w, long maxBytes) {
    for (ContainerRecord r : w.containers().values()) {
      if (r.id == null || !r.running()) {
        continue;
      }
      Path file = w.podDirectory().resolve("logs").resolve(r.name).resolve(r.restartCount + ".log");
      try {
        if (Files.exists(file) && Files.size(file) > maxBytes) {
          runtime.rotateLog(r.id, file, file.resolveSibling(file.getFileName() + ".1"));
        }
      } catch (IOException | PodRuntime.RuntimeFailure e) {
        throw new IllegalStateException("cannot rotate " + file + ": " + e.getMessage(), e);
      }
    }
  }

  /** A log file (and its rotated predecessor) read from where the last read stopped. */
  static final class FileStream implements LogStream {
    /** The kubelet's {@code RFC3339NanoFixed}: always nine digits, the offset the line has. */
    private static final DateTimeFormatter TIMESTAMP =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX");

    private final Path file;
    private final Path rotated;
    private final LogOptions options;
    private final PodRuntime.LogFormat format;
    private final java.util.function.BooleanSupplier ended;
    private long position = -1;
    private Object rotatedKey;
    private long written;
    private boolean atLineStart = true;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    FileStream(
        Path file,
        LogOptions options,
        PodRuntime.LogFormat format,
        java.util.function.BooleanSupplier ended) {
      this.file = file;
      this.rotated = file.resolveSibling(file.getFileName() + ".1");
      this.options = options;
      this.format = format;
      this.ended = ended;
    }

    @Override
    public byte[] readAvailable() {
      byte[] raw;
      if (position < 0) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(readFrom(rotated, 0));
        rotatedKey = key(rotated);
        byte[] cur = readFrom(file, 0);
        all.writeBytes(cur);
        position = cur.length;
        raw = all.toByteArray();
        if (format == PodRuntime.LogFormat.PLAIN) {
          return limit(options.tailLines() >= 0 ? tail(raw, options.tailLines()) : raw);
        }
        // As the kubelet: the last tailLines lines of the file, of those the ones since `since`.
        return limit(decode(options.tailLines() >= 0 ? tail(raw, options.tailLines()) : raw));
      }
      ByteArrayOutputStream fresh = new ByteArrayOutputStream();
      Object k = key(rotated);
      if (k != null && !k.equals(rotatedKey)) {
        // Rotated since: what we had not read yet is at the end of the rotated file.
        rotatedKey = k;
        fresh.writeBytes(readFrom(rotated, position));
        position = 0;
      }
      byte[] cur = readFrom(file, position);
      position += cur.length;
      fresh.writeBytes(cur);
      return limit(decode(fresh.toByteArray()));
    }

    @Override
    public boolean finished() {
      return ended.getAsBoolean() && size(file) <= position;
    }

    private byte[] limit(byte[] text) {
      if (options.limitBytes() < 0) {
        return text;
      }
      long room = Math.max(0, options.limitBytes() - written);
      byte[] out = text.length <= room ? text : java.util.Arrays.copyOf(text, (int) room);
      written += out.length;
      return out;
    }

    /** CRI lines back to the program's output; plain logs as they are. */
    private byte[] decode(byte[] raw) {
      if (format == PodRuntime.LogFormat.PLAIN) {
        return raw;
      }
      partial.writeBytes(raw);
      byte[] buf = partial.toByteArray();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int start = 0;
      for (int i = 0; i < buf.length; i++) {
        if (buf[i] == '\n') {
          criLine(new String(buf, start, i - start, StandardCharsets.UTF_8), out);
          start = i + 1;
        }
      }
      partial.reset();
      partial.write(buf, start, buf.length - start);
      return out.toByteArray();
    }

    /**
     * One CRI line ({@code <time> <stream> <tag> <content>}) as the kubelet writes it out: left out
     * when older than {@code since}; with {@code timestamps}, the time in RFC 3339 with all nine
     * digits of nanoseconds and a space before it, where a line of the program starts (not before
     * the rest of a line that came in parts, tag {@code P}). A line that is not CRI is skipped.
     */
    private void criLine(String line, ByteArrayOutputStream out) {
      int a = line.indexOf(' ');
      int b = a < 0 ? -1 : line.indexOf(' ', a + 1);
      int c = b < 0 ? -1 : line.indexOf(' ', b + 1);
      if (c < 0) {
        return;
      }
      boolean whole = !line.substring(b + 1, c).startsWith("P");
      boolean lineStart = atLineStart;
      atLineStart = whole;
      OffsetDateTime time = null;
      if (options.since() != null || options.timestamps()) {
        try {
          time = OffsetDateTime.parse(line.substring(0, a));
        } catch (DateTimeParseException e) {
          return;
        }
      }
      if (options.since() != null && time.toInstant().isBefore(options.since())) {
        return;
      }
      if (options.timestamps() && lineStart) {
        out.writeBytes((TIMESTAMP.format(time) + " ").getBytes(StandardCharsets.UTF_8));
      }
      out.writeBytes(line.substring(c + 1).getBytes(StandardCharsets.UTF_8));
      if (whole) {
        out.write('\n');
      }
    }

    private static byte[] tail(byte[] text, long lines) {
      if (lines == 0) {
        return new byte[0];
      }
      int end = text.length;
      if (end > 0 && text[end - 1] == '\n') {
        end--;
      }
      long seen = 0;
      for (int i = end - 1; i >= 0; i--) {
        if (text[i] == '\n' && ++seen == lines) {
          return java.util.Arrays.copyOfRange(text, i + 1, text.length);
        }
      }
      return text;
    }

    /** Identifies one rotated file: rotation writes a new one. */
    private static Object key(Path p) {
      try {
        var a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
        return java.util.List.of(String.valueOf(a.fileKey()), a.lastModifiedTime(), a.size());
      } catch (IOException e) {
        return null;
      }
    }

    private static long size(Path p) {
      try {
        return Files.size(p);
      } catch (IOException e) {
        return 0;
      }
    }

    private static byte[] readFrom(Path p, long offset) {
      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
        long len = f.length() - offset;
        if (len <= 0) {
          return new byte[0];
        }
        byte[] b = new byte[(int) Math.min(len, 64L * 1024 * 1024)];
        f.seek(offset);
        f.readFully(b);
        return b;
      } catch (IOException e) {
        return new byte[0];
      }
    }
  }
}
