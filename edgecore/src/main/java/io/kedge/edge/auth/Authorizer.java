package io.kedge.edge.auth;

/** Decides whether a request may be served. Must be fast and must not block on the network. */
@FunctionalInterface
public interface Authorizer {

  Decision authorize(RequestAttributes attributes);

  /**
   * The outcome. {@code reason} is appended to the 403 message (as the apiserver does) when not
   * empty.
   */
  record Decision(boolean allowed, String reason) {
    public static final Decision ALLOW = new Decision(true, "");
    public static final Decision NO_OPINION = new Decision(false, "");

    public static Decision deny(String reason) {
      return new Decision(false, reason == null ? "" : reason);
    }
  }

  /** The first authorizer that allows decides; otherwise denied with the reasons joined. */
  static Authorizer union(Authorizer... all) {
    return a -> {
      StringBuilder reasons = new StringBuilder();
      for (Authorizer z : all) {
        Decision d = z.authorize(a);
        if (d.allowed()) {
          return d;
        }
        if (!d.reason().isEmpty()) {
          if (reasons.length() > 0) {
            reasons.append('\n');
          }
          reasons.append(d.reason());
        }
      }
      return Decision.deny(reasons.toString());
    };
  }
}
