package io.kedge.edge.edged;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code exec} and {@code attach} into the containers of this node's pods, as the kubelet's
 * streaming API offers them: either a session Edged runs itself (the process runtime) or the URL of
 * the runtime's own streaming server (CRI), which speaks the kubelet's protocol.
 */
public interface ContainerStreams {

  StreamTarget exec(
      String namespace, String pod, String container, List<String> command, StreamOptions options)
      throws StreamException;

  StreamTarget attach(String namespace, String pod, String container, StreamOptions options)
      throws StreamException;

  /** Which of the container's streams the client wants. */
  record StreamOptions(boolean stdin, boolean stdout, boolean stderr, boolean tty) {}

  /** Where the streams are served. */
  sealed interface StreamTarget permits Url, Session {}

  /** The runtime's streaming server: the request is proxied there as it is. */
  record Url(String url) implements StreamTarget {}

  /** A command or attachment Edged runs itself. */
  record Session(ContainerSession session) implements StreamTarget {}

  /** The streams of one exec or attach. */
  interface ContainerSession extends AutoCloseable {
    /** The process's stdin, or null when there is none. */
    OutputStream stdin();

    /** stdout (with a TTY: the terminal's output), or null. */
    InputStream stdout();

    /** stderr, or null (always with a TTY). */
    InputStream stderr();

    /** The terminal's new size (with a TTY). */
    void resize(int width, int height);

    /** Completes with the exit code when the command (or the attached container) ends. */
    CompletableFuture<Integer> exitCode();

    /** Ends the command (the client went away). */
    @Override
    void close();
  }

  /** A request the kubelet would refuse, with its HTTP code. */
  class StreamException extends Exception {
    private final int code;

    public StreamException(int code, String message) {
      super(message);
      this.code = code;
    }

    public int code() {
      return code;
    }
  }
}
