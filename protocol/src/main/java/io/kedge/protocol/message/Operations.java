package io.kedge.protocol.message;

/** Operation names used on KubeEdge's wire ({@code route.operation}). */
public final class Operations {
  private Operations() {}

  // beehive
  public static final String INSERT = "insert";
  public static final String UPDATE = "update";
  public static final String PATCH = "patch";
  public static final String DELETE = "delete";
  public static final String QUERY = "query";
  public static final String RESPONSE = "response";
  public static final String ERROR = "error";
  public static final String UPLOAD = "upload";

  // edge
  public static final String KEEPALIVE = "keepalive";

  // MetaServer Applications: requests carry operation "null", replies "applicationResponse".
  public static final String APPLICATION_REQUEST = "null";
  public static final String APPLICATION_RESPONSE = "applicationResponse";

  /**
   * Kedge only, cloud to a Kedge edge, no ACK: the edge holds the scope of its watch {@code
   * applicationId} up to {@code resourceVersion} (content {@code {"applicationId": ID,
   * "resourceVersion": "N"}}) and may resume it from there after a disconnect.
   */
  public static final String KEDGE_WATCH_PROGRESS = "kedge.watchProgress";

  /**
   * Kedge only, cloud to a Kedge edge, no ACK: the cloud stopped the edge's watch {@code
   * applicationId} on its own (the pod whose token it ran with is gone, RBAC no longer allows it,
   * its events could not be delivered); content {@code {"applicationId": ID, "status": Status}}.
   * The edge keeps the scope current another way or stops serving it as current. A KubeEdge edge's
   * MetaManager logs the unknown operation and drops it. Sent once: a message lost with its
   * connection is made good by the {@code watchapp/sync} the edge sends when it reconnects, which
   * the cloud answers for a stopped watch as it answers a new one.
   */
  public static final String KEDGE_WATCH_STOPPED = "kedge.watchStopped";

  /** Operations viaduct answers itself with "ack" and swallows; never used by Kedge. */
  public static boolean isViaductControl(String op) {
    return "config".equals(op) || "ping".equals(op) || "pong".equals(op);
  }
}
