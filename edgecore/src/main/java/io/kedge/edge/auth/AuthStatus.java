package io.kedge.edge.auth;

import io.kedge.protocol.status.KubeStatus;
import tools.jackson.databind.node.ObjectNode;

/** The 401 and 403 {@code Status} bodies, worded exactly as the apiserver words them. */
public final class AuthStatus {
  private AuthStatus() {}

  /** 401 {@code Unauthorized}, the same for every rejected credential (no hint why). */
  public static ObjectNode unauthorized() {
    return KubeStatus.failure(401, "Unauthorized", "Unauthorized");
  }

  /**
   * 403 {@code Forbidden}, e.g. {@code configmaps is forbidden: User "system:serviceaccount:ns:sa"
   * cannot list resource "configmaps" in API group "" in the namespace "ns"}.
   *
   * @param reason the authorizer's reason, appended after ": " when not empty
   */
  public static ObjectNode forbidden(RequestAttributes a, String reason) {
    // The apiserver HTML-escapes the user-controlled part of the message.
    String msg =
        forbiddenMessage(a).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    if (reason != null && !reason.isEmpty()) {
      msg = msg + ": " + reason;
    }
    String group = a.resourceRequest() ? a.apiGroup() : "";
    String resource = a.resourceRequest() ? a.resource() : "";
    String name = a.resourceRequest() ? a.name() : "";
    String message;
    if (resource.isEmpty() && group.isEmpty()) {
      message = "forbidden: " + msg;
    } else {
      String qualified = group.isEmpty() ? resource : resource + "." + group;
      message =
          name.isEmpty()
              ? qualified + " is forbidden: " + msg
              : qualified + " " + quote(name) + " is forbidden: " + msg;
    }
    ObjectNode s = KubeStatus.failure(403, "Forbidden", message);
    return KubeStatus.withDetails(s, name, group, resource);
  }

  static String forbiddenMessage(RequestAttributes a) {
    String user = a.user() == null ? "" : a.user().name();
    if (!a.resourceRequest()) {
      return "User " + quote(user) + " cannot " + a.verb() + " path " + quote(a.path());
    }
    String base =
        "User "
            + quote(user)
            + " cannot "
            + a.verb()
            + " resource "
            + quote(a.combinedResource())
            + " in API group "
            + quote(a.apiGroup());
    return a.namespace().isEmpty()
        ? base + " at the cluster scope"
        : base + " in the namespace " + quote(a.namespace());
  }

  /** Go's {@code %q} for the printable names that occur here. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
