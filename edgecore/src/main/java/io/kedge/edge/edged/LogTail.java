package io.kedge.edge.edged;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * A container's log file read from its end as it grows (what {@code kubectl attach} shows of a
 * process-runtime container), until the container has ended and all was read. A file truncated by
 * rotation is read again from its start. The file's CRI lines come out as the program wrote them.
 */
final class LogTail extends InputStream {
  private final Path file;
  private final BooleanSupplier ended;
  private long position;
  private volatile boolean closed;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final ByteArrayOutputStream decoded = new ByteArrayOutputStream();

  LogTail(Path file, BooleanSupplier ended) {
    this.file = file;
    this.ended = ended;
    this.position = size();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (decoded.size() == 0) {
      byte[] raw = readRaw(8192);
      if (raw == null) {
        return -1;
      }
      decode(raw);
    }
    byte[] d = decoded.toByteArray();
    int n = Math.min(len, d.length);
    System.arraycopy(d, 0, b, off, n);
    decoded.reset();
    decoded.write(d, n, d.length - n);
    return n;
  }

  /** The program's bytes in the complete CRI lines of {@code raw} (and what came before it). */
  private void decode(byte[] raw) {
    pending.writeBytes(raw);
    byte[] buf = pending.toByteArray();
    int start = 0;
    for (int i = 0; i < buf.length; i++) {
      if (buf[i] != '\n') {
        continue;
      }
      String line = new String(buf, start, i - start, StandardCharsets.UTF_8);
      start = i + 1;
      int a = line.indexOf(' ');
      int t = a < 0 ? -1 : line.indexOf(' ', a + 1);
      int c = t < 0 ? -1 : line.indexOf(' ', t + 1);
      if (c < 0) {
        continue;
      }
      decoded.writeBytes(line.substring(c + 1).getBytes(StandardCharsets.UTF_8));
      if (!line.startsWith("P", t + 1)) {
        decoded.write('\n');
      }
    }
    pending.reset();
    pending.write(buf, start, buf.length - start);
  }

  /**
   * The next bytes of the file, waiting for them; null once the container ended and all is read.
   */
  private byte[] readRaw(int max) throws IOException {
    while (!closed) {
      long size = size();
      if (size < position) {
        position = 0;
        pending.reset();
      }
      if (size > position) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
          f.seek(position);
          byte[] b = new byte[(int) Math.min(max, size - position)];
          int n = f.read(b);
          if (n > 0) {
            position += n;
            return n == b.length ? b : java.util.Arrays.copyOf(b, n);
          }
        }
      }
      if (ended.getAsBoolean() && size() <= position) {
        return null;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
    return null;
  }

  private long size() {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
