package io.kedge.edge.edgestream;

import io.kedge.edge.edged.PodLogs;
import io.kedge.protocol.stream.StreamRequest;
import io.kedge.protocol.stream.TunnelMessage;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code GET /containerLogs/{ns}/{pod}/{container}} from the tunnel, answered from Edged's logs
 * with the kubelet's options ({@link PodLogs.LogOptions#fromQuery}) and {@code follow}, which sends
 * what is written until the container ends or the cloud removes the connection. For a Kedge cloud
 * ({@link StreamRequest#STATUS_FIRST}) the first message is the status (3 digits, and for an error
 * its text).
 */
final class LogsConnection implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(LogsConnection.class);
  private static final int CHUNK = 32 * 1024;
  private static final long FOLLOW_POLL_MS = 200;

  private final long id;
  private final StreamRequest request;
  private final PodLogs logs;
  private final Consumer<TunnelMessage> send;
  private volatile boolean removed;

  LogsConnection(long id, StreamRequest request, PodLogs logs, Consumer<TunnelMessage> send) {
    this.id = id;
    this.request = request;
    this.logs = logs;
    this.send = send;
  }

  /** The cloud ended the connection (the client went away). */
  void remove() {
    removed = true;
  }

  @Override
  public void run() {
    boolean statusFirst = request.firstHeader(StreamRequest.STATUS_FIRST) != null;
    try {
      String[] p = request.path().split("/", -1);
      if (p.length != 5 || !p[1].equals("containerLogs")) {
        refuse(statusFirst, 404, "no such logs path: " + request.path());
        return;
      }
      Map<String, List<String>> q = new QueryStringDecoder("?" + request.rawQuery()).parameters();
      boolean follow = KubeletStreamServer.flag(q, "follow");
      PodLogs.LogOptions options = PodLogs.LogOptions.fromQuery(p[4], q, Instant.now());
      try (PodLogs.LogStream s = logs.open(p[2], p[3], options)) {
        if (statusFirst) {
          send.accept(TunnelMessage.data(id, "200".getBytes(StandardCharsets.US_ASCII)));
        }
        LOG.info(
            "edgestream: logs of {}/{}/{} (follow {}, connection {})",
            p[2],
            p[3],
            p[4],
            follow,
            id);
        do {
          byte[] b = s.readAvailable();
          for (int off = 0; off < b.length; off += CHUNK) {
            send.accept(
                TunnelMessage.data(
                    id, Arrays.copyOfRange(b, off, Math.min(b.length, off + CHUNK))));
          }
          if (!follow || s.finished() || removed) {
            break;
          }
          Thread.sleep(FOLLOW_POLL_MS);
        } while (!removed);
      }
    } catch (PodLogs.PodLogException e) {
      refuse(statusFirst, e.code(), e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!removed) {
      send.accept(TunnelMessage.remove(id));
    }
  }

  private void refuse(boolean statusFirst, int code, String message) {
    LOG.info("edgestream: logs {} refused: {} {}", request.path(), code, message);
    byte[] text =
        ((statusFirst ? Integer.toString(code) : "") + message + "\n")
            .getBytes(StandardCharsets.UTF_8);
    send.accept(TunnelMessage.data(id, text));
    send.accept(TunnelMessage.remove(id));
  }
}
