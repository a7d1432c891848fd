package io.kedge.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.junit.jupiter.api.Test;

class JdkPemTest {
  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  @Test
  void readsEcKeysInSec1AndPkcs8FormWithoutBouncyCastle() throws Exception {
    KeyPair k = KeyPairs.ecP256();
    String sec1 = Pem.encode(k.getPrivate());
    assertThat(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----");
    PrivateKey read = JdkPem.privateKey(sec1);
    assertThat(((ECPrivateKey) read).getS()).isEqualTo(((ECPrivateKey) k.getPrivate()).getS());
    // Encoded exactly as BouncyCastle's reading of the same file (the whole SEC1 structure).
    assertThat(read).isEqualTo(viaBouncyCastle(sec1));
    assertThat(JdkPem.privateKey(pem("PRIVATE KEY", k.getPrivate().getEncoded())))
        .isEqualTo(k.getPrivate());
    assertThat(JdkPem.publicKey(Pem.encode(k.getPublic()))).isEqualTo(k.getPublic());
  }

  private static PrivateKey viaBouncyCastle(String pem) throws Exception {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      PrivateKeyInfo info = ((PEMKeyPair) p.readObject()).getPrivateKeyInfo();
      String alg =
          info.getPrivateKeyAlgorithm().getAlgorithm().getId().startsWith("1.2.840.10045")
              ? "EC"
              : "RSA";
      return KeyFactory.getInstance(alg)
          .generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }
  }

  @Test
  void readsRsaKeysInPkcs1AndPkcs8Form() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair k = g.generateKeyPair();
    String pkcs1 = Pem.encode(k.getPrivate());
    assertThat(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(JdkPem.privateKey(pkcs1)).isEqualTo(viaBouncyCastle(pkcs1));
    assertThat(((RSAPrivateKey) JdkPem.privateKey(pkcs1)).getPrivateExponent())
        .isEqualTo(((RSAPrivateKey) k.getPrivate()).getPrivateExponent());
    assertThat(JdkPem.privateKey(pem("PRIVATE KEY", k.getPrivate().getEncoded())))
        .isEqualTo(k.getPrivate());
    assertThat(JdkPem.publicKey(pem("PUBLIC KEY", k.getPublic().getEncoded())))
        .isEqualTo(k.getPublic());
  }

  @Test
  void leavesAnythingElseToTheGeneralParser() {
    KeyPair k = KeyPairs.ecP256();
    String sec1 = Pem.encode(k.getPrivate());
    String encrypted =
        sec1.replace(
            "-----BEGIN EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n");
    assertThat(JdkPem.privateKey(encrypted)).isNull();
    assertThat(JdkPem.privateKey("no pem here")).isNull();
    assertThat(JdkPem.privateKey(pem("EC PRIVATE KEY", new byte[] {0x30, 0x03, 0x02, 0x01})))
        .isNull();
    assertThat(JdkPem.privateKey(pem("CERTIFICATE", new byte[] {1, 2, 3}))).isNull();
    assertThat(JdkPem.publicKey(pem("PUBLIC KEY", new byte[] {0x30, 0x00}))).isNull();
  }
}
