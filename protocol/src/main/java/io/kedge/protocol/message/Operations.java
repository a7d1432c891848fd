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

  /** Operations viaduct answers itself with "ack" and swallows; never used by Kedge. */
  public static boolean isViaductControl(String op) {
    return "config".equals(op) || "ping".equals(op) || "pong".equals(op);
  }
}
