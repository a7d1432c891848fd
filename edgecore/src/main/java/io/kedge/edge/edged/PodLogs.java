package io.kedge.edge.edged;

/**
 * Container logs of the pods on this node, as plain text — what the API server returns for {@code
 * GET /api/v1/namespaces/{ns}/pods/{name}/log}, so MetaServer can serve {@code kubectl logs}.
 */
public interface PodLogs {

  /** The log as it is now (honouring {@code tailLines}, {@code limitBytes}, {@code previous}). */
  default byte[] read(String namespace, String pod, LogOptions options) throws PodLogException {
    try (LogStream s = open(namespace, pod, options)) {
      return s.readAvailable();
    }
  }

  /**
   * A stream over the log that can be read again for what was written since ({@code follow=true}).
   */
  LogStream open(String namespace, String pod, LogOptions options) throws PodLogException;

  /**
   * The query parameters of {@code pods/{name}/log} that Edged honours.
   *
   * @param container empty for the pod's only container
   * @param tailLines negative for all
   * @param limitBytes negative for no limit
   * @param timestamps prefix each line with its RFC 3339 time (CRI logs only)
   */
  record LogOptions(
      String container, boolean previous, long tailLines, long limitBytes, boolean timestamps) {
    public static LogOptions of(String container) {
      return new LogOptions(container, false, -1, -1, false);
    }
  }

  /** Log bytes as they come; not thread-safe. */
  interface LogStream extends AutoCloseable {
    /** What was written since the last call (the first call: the selected log so far). */
    byte[] readAvailable();

    /** The container has ended: nothing more will come. */
    boolean finished();

    @Override
    default void close() {}
  }

  /** A request the API server would refuse: {@code code} and {@code reason} as in its Status. */
  class PodLogException extends Exception {
    private final int code;
    private final String reason;

    public PodLogException(int code, String reason, String message) {
      super(message);
      this.code = code;
      this.reason = reason;
    }

    public int code() {
      return code;
    }

    public String reason() {
      return reason;
    }

    static PodLogException notFound(String pod) {
      return new PodLogException(404, "NotFound", "pods \"" + pod + "\" not found");
    }

    static PodLogException badRequest(String message) {
      return new PodLogException(400, "BadRequest", message);
    }
  }
}
