package io.kedge.edge.auth;

/** Establishes who sent a request from its {@code Authorization} header. */
@FunctionalInterface
public interface Authenticator {

  /**
   * @param authorizationHeader the header's value, or null when absent
   */
  Authentication authenticate(String authorizationHeader);

  /**
   * The outcome: a user (possibly anonymous), or a failure (answer 401).
   *
   * @param user who, or null on failure
   * @param token the bearer token presented, or empty (the cloud replays requests with it in {@code
   *     pod} identity mode)
   * @param claims the verified token claims, or null (anonymous, failure)
   * @param failure why the credentials were rejected, or empty (for the log, never the client)
   */
  record Authentication(UserInfo user, String token, ServiceAccountClaims claims, String failure) {

    public Authentication {
      token = token == null ? "" : token;
      failure = failure == null ? "" : failure;
    }

    public static Authentication anonymous() {
      return new Authentication(UserInfo.anonymous(), "", null, "");
    }

    public static Authentication failed(String why) {
      return new Authentication(null, "", null, why);
    }

    public static Authentication of(ServiceAccountClaims claims, String token) {
      return new Authentication(claims.userInfo(), token, claims, "");
    }

    public boolean ok() {
      return user != null;
    }
  }
}
