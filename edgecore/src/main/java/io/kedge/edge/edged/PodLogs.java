package io.kedge.edge.edged;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/**
 * Container logs of the pods on this node, as plain text — what the API server returns for {@code
 * GET /api/v1/namespaces/{ns}/pods/{name}/log}, so MetaServer can serve {@code kubectl logs}.
 */
public interface PodLogs {

  /** The log as it is now, selected by {@code options}. */
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
   * The query parameters of {@code pods/{name}/log} that Edged honours, as the kubelet reads them.
   *
   * @param container empty for the pod's only container
   * @param tailLines negative for all
   * @param limitBytes negative for no limit
   * @param timestamps prefix each line with the time it was written (RFC 3339, nanoseconds; CRI
   *     logs only: plain logs carry no times)
   * @param since lines written before this are left out; null for all ({@code sinceSeconds} and
   *     {@code sinceTime}, whichever is later, as the kubelet combines them; CRI logs only)
   */
  record LogOptions(
      String container,
      boolean previous,
      long tailLines,
      long limitBytes,
      boolean timestamps,
      Instant since) {
    public LogOptions(
        String container, boolean previous, long tailLines, long limitBytes, boolean timestamps) {
      this(container, previous, tailLines, limitBytes, timestamps, null);
    }

    public static LogOptions of(String container) {
      return new LogOptions(container, false, -1, -1, false, null);
    }

    /**
     * The options in a query, decoded and checked as the kubelet does: a value that is not a
     * number, boolean or RFC 3339 time is a 400; values the apiserver's validation refuses
     * (negative {@code tailLines}, {@code limitBytes} or {@code sinceSeconds} below 1, both {@code
     * sinceSeconds} and {@code sinceTime}) are a 422. The apiserver checks the same before it
     * proxies, so through it only valid options arrive.
     *
     * @param now what {@code sinceSeconds} counts back from
     */
    public static LogOptions fromQuery(
        String container, Map<String, List<String>> query, Instant now) throws PodLogException {
      long tail = number(query, "tailLines");
      long limit = number(query, "limitBytes");
      long sinceSeconds = number(query, "sinceSeconds");
      String sinceTime = first(query, "sinceTime");
      Instant at = null;
      if (sinceTime != null && !sinceTime.isEmpty() && !sinceTime.equals("null")) {
        try {
          at = OffsetDateTime.parse(sinceTime).toInstant();
        } catch (DateTimeParseException e) {
          throw PodLogException.badRequest(
              "sinceTime: not an RFC 3339 time: \"" + sinceTime + "\"");
        }
      }
      if (present(query, "tailLines") && tail < 0) {
        throw PodLogException.invalid("tailLines", tail, "must be greater than or equal to 0");
      }
      if (present(query, "limitBytes") && limit < 1) {
        throw PodLogException.invalid("limitBytes", limit, "must be greater than 0");
      }
      if (present(query, "sinceSeconds") && at != null) {
        throw new PodLogException(
            422, "Invalid", "at most one of `sinceTime` or `sinceSeconds` may be specified");
      }
      if (present(query, "sinceSeconds") && sinceSeconds < 1) {
        throw PodLogException.invalid("sinceSeconds", sinceSeconds, "must be greater than 0");
      }
      Instant since = present(query, "sinceSeconds") ? now.minusSeconds(sinceSeconds) : at;
      return new LogOptions(
          container,
          flag(query, "previous"),
          present(query, "tailLines") ? tail : -1,
          present(query, "limitBytes") ? limit : -1,
          flag(query, "timestamps"),
          since);
    }

    private static String first(Map<String, List<String>> q, String name) {
      List<String> v = q.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static boolean present(Map<String, List<String>> q, String name) {
      String v = first(q, name);
      return v != null && !v.isEmpty();
    }

    /** As the apiserver's query decoding: only absent, "0" and "false" (any case) are false. */
    private static boolean flag(Map<String, List<String>> q, String name) {
      String v = first(q, name);
      return v != null && !v.equals("0") && !v.equalsIgnoreCase("false");
    }

    private static long number(Map<String, List<String>> q, String name) throws PodLogException {
      String v = first(q, name);
      if (v == null || v.isEmpty()) {
        return -1;
      }
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw PodLogException.badRequest(name + ": not a number: \"" + v + "\"");
      }
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

    /** As the apiserver words a field its validation refuses. */
    static PodLogException invalid(String field, long value, String why) {
      return new PodLogException(422, "Invalid", field + ": Invalid value: " + value + ": " + why);
    }
  }
}
