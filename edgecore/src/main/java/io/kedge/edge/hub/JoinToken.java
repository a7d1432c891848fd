package io.kedge.edge.hub;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The join token {@code keadm gettoken} prints: {@code hex(sha256(CA DER)) + "." + JWT}. The hash
 * pins the CA the edge downloads without verification; the JWT authorizes the first certificate.
 *
 * @param caHash lower-case hex SHA-256 of the CA certificate's DER encoding
 * @param jwt the bearer token for {@code /edge.crt}
 */
public record JoinToken(String caHash, String jwt) {

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

  /** Parses a token; {@link BootstrapException} with a clear message when it is malformed. */
  public static JoinToken parse(String token) {
    String t = token == null ? "" : token.strip();
    if (t.isEmpty()) {
      throw new BootstrapException("no join token configured (modules.edgeHub.token)");
    }
    int dot = t.indexOf('.');
    if (dot < 0 || !SHA256_HEX.matcher(t.substring(0, dot)).matches()) {
      throw new BootstrapException(
          "malformed join token: expected <64 hex digits of the CA hash>.<jwt>");
    }
    String jwt = t.substring(dot + 1);
    if (jwt.split("\\.", -1).length != 3) {
      throw new BootstrapException("malformed join token: the part after the CA hash is no JWT");
    }
    return new JoinToken(t.substring(0, dot).toLowerCase(Locale.ROOT), jwt);
  }

  @Override
  public String toString() {
    return "JoinToken[caHash=" + caHash + ", jwt=<redacted>]";
  }
}
