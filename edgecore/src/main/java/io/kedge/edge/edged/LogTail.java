package io.kedge.edge.edged;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * A container's log file read from its end as it grows (what {@code kubectl attach} shows of a
 * process-runtime container), until the container has ended and all was read. A file truncated by
 * rotation is read again from its start.
 */
final class LogTail extends InputStream {
  private final Path file;
  private final BooleanSupplier ended;
  private long position;
  private volatile boolean closed;

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
    while (!closed) {
      long size = size();
      if (size < position) {
        position = 0;
      }
      if (size > position) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
          f.seek(position);
          int n = f.read(b, off, (int) Math.min(len, size - position));
          if (n > 0) {
            position += n;
            return n;
          }
        }
      }
      if (ended.getAsBoolean() && size() <= position) {
        return -1;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
    return -1;
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
