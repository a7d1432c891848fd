package io.kedge.edge.auth;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge's authenticator: no {@code Authorization} header is the anonymous user (who may only
 * read discovery); a bearer token must be a service-account token that {@link TokenVerifier}
 * accepts and whose bindings hold on this node — the pod it is bound to runs here with that UID and
 * service account, the service account's UID matches the synced one, a bound Secret exists with
 * that UID. Anything else is a failure (401).
 *
 * <p>Before the issuer's keys have ever been fetched, a token this node itself obtained for one of
 * its pods is accepted without a signature check ({@code issuedHere}); any other is refused.
 */
public final class TokenAuthenticator implements Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(TokenAuthenticator.class);

  private final TokenVerifier verifier;
  private final BoundObjects objects;
  private final VerificationKeys keys;
  private final Predicate<String> issuedHere;

  /**
   * @param issuedHere whether a token is one this node obtained for a pod it runs (the stored pod
   *     tokens)
   */
  public TokenAuthenticator(
      TokenVerifier verifier,
      VerificationKeys keys,
      BoundObjects objects,
      Predicate<String> issuedHere) {
    this.verifier = verifier;
    this.keys = keys;
    this.objects = objects;
    this.issuedHere = issuedHere;
  }

  @Override
  public Authentication authenticate(String header) {
    if (header == null) {
      return Authentication.anonymous();
    }
    String h = header.strip();
    int sp = h.indexOf(' ');
    if (sp < 0 || !h.substring(0, sp).toLowerCase(Locale.ROOT).equals("bearer")) {
      return Authentication.failed("Authorization header is not a bearer token");
    }
    String token = h.substring(sp + 1).strip();
    try {
      ServiceAccountClaims claims;
      var jwks = keys.current();
      if ((jwks == null || jwks.isEmpty()) && issuedHere.test(token)) {
        claims = verifier.verifyIssued(token);
      } else {
        claims = verifier.verify(token);
      }
      checkBindings(claims);
      return Authentication.of(claims, token);
    } catch (InvalidTokenException e) {
      LOG.debug("token rejected: {}", e.getMessage());
      return Authentication.failed(e.getMessage());
    }
  }

  private void checkBindings(ServiceAccountClaims c) throws InvalidTokenException {
    String who = c.namespace() + "/" + c.serviceAccountName();
    Optional<String> saUid = objects.serviceAccountUid(c.namespace(), c.serviceAccountName());
    if (saUid.isPresent() && !saUid.get().equals(c.serviceAccountUid())) {
      throw new InvalidTokenException(
          "service account "
              + who
              + " has UID "
              + saUid.get()
              + ", token names "
              + c.serviceAccountUid());
    }
    if (c.boundToPod()) {
      String pod = c.namespace() + "/" + c.podName();
      BoundObjects.Pod p =
          objects
              .pod(c.namespace(), c.podName())
              .orElseThrow(() -> new InvalidTokenException("pod " + pod + " does not run here"));
      if (!p.uid().equals(c.podUid())) {
        throw new InvalidTokenException(
            "pod " + pod + " has UID " + p.uid() + ", token names " + c.podUid());
      }
      String podSa = p.serviceAccountName().isEmpty() ? "default" : p.serviceAccountName();
      if (!podSa.equals(c.serviceAccountName())) {
        throw new InvalidTokenException(
            "pod " + pod + " runs as " + podSa + ", token names " + c.serviceAccountName());
      }
    } else if (c.boundToSecret()) {
      String secret = c.namespace() + "/" + c.secretName();
      String uid =
          objects
              .secretUid(c.namespace(), c.secretName())
              .orElseThrow(() -> new InvalidTokenException("secret " + secret + " unknown here"));
      if (!uid.equals(c.secretUid())) {
        throw new InvalidTokenException("secret " + secret + " has another UID");
      }
    } else {
      // A token bound to nothing could come from any node: only pods of this node may call.
      throw new InvalidTokenException("token of " + who + " is not bound to a pod");
    }
  }
}
