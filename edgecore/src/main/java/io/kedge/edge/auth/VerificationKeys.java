package io.kedge.edge.auth;

/** Where service-account token verification keys come from (the cached JWKS of the issuer). */
public interface VerificationKeys {

  /** The keys known now; empty when none has been fetched yet. */
  Jwks current();

  /**
   * Told that a token names a key id that is not known: the issuer may have rotated its keys. Must
   * not block.
   */
  default void unknownKeyId(String kid) {}

  static VerificationKeys of(Jwks jwks) {
    return () -> jwks;
  }
}
