package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import tools.jackson.databind.node.ObjectNode;

/**
 * A stand-in for the cloud's side of the CSR exchange (unit tests only): signs the edge's CSR with
 * a test CA after {@code approveAfterPolls} polls, or denies it.
 */
final class SigningCloud implements CloudLink {
  final CertificateAuthority ca =
      CertificateAuthority.create("test-ca", KeyPairs.ecP256(), Duration.ofDays(1));
  final List<CloudLinkListener> listeners = new CopyOnWriteArrayList<>();
  final List<Message> received = new CopyOnWriteArrayList<>();
  volatile boolean connected = true;
  volatile boolean deny;
  volatile int approveAfterPolls = 1;
  volatile Duration validity = Duration.ofHours(1);
  final AtomicInteger polls = new AtomicInteger();
  final AtomicInteger created = new AtomicInteger();
  volatile ObjectNode csr;
  final List<String> sans = new ArrayList<>();

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public synchronized CompletableFuture<Message> request(Message m, Duration timeout) {
    if (!connected) {
      throw new NotConnectedException("offline");
    }
    received.add(m);
    ObjectNode body = Json.object();
    if (Operations.INSERT.equals(m.operation())) {
      created.incrementAndGet();
      polls.set(0);
      csr = ((ObjectNode) m.content()).deepCopy();
      ((ObjectNode) csr.get("metadata")).put("uid", "uid-" + created.get());
      body.set("Object", csr);
      body.putNull("Err");
    } else if (csr == null) {
      body.putNull("Object");
      body.set("Err", KubeStatus.errStatus(KubeStatus.notFound("certificates.k8s.io", "x", "y")));
    } else {
      if (polls.incrementAndGet() >= approveAfterPolls && !csr.path("status").has("certificate")) {
        if (deny) {
          status()
              .putArray("conditions")
              .addObject()
              .put("type", "Denied")
              .put("reason", "Nope")
              .put("message", "not for you");
        } else {
          status().put("certificate", sign(csr.path("spec").path("request").asString()));
        }
      }
      body.set("Object", csr.deepCopy());
      body.putNull("Err");
    }
    return CompletableFuture.completedFuture(m.reply(body));
  }

  private String sign(String requestB64) {
    try {
      PKCS10CertificationRequest req =
          Pem.csr(new String(Base64.getDecoder().decode(requestB64), StandardCharsets.US_ASCII));
      var key = new JcaPEMKeyConverter().getPublicKey(req.getSubjectPublicKeyInfo());
      sans.clear();
      for (var attr : req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        Extensions exts = Extensions.getInstance(attr.getAttrValues().getObjectAt(0));
        for (GeneralName g :
            GeneralNames.getInstance(
                    exts.getExtension(Extension.subjectAlternativeName).getParsedValue())
                .getNames()) {
          sans.add(
              java.net.InetAddress.getByAddress(
                      org.bouncycastle.asn1.ASN1OctetString.getInstance(g.getName()).getOctets())
                  .getHostAddress());
        }
      }
      var cert =
          ca.issue(CertSpec.server(req.getSubject().toString(), sans, List.of(), validity), key);
      return Base64.getEncoder()
          .encodeToString(Pem.encode(cert).getBytes(StandardCharsets.US_ASCII));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private ObjectNode status() {
    if (!(csr.get("status") instanceof ObjectNode)) {
      csr.putObject("status");
    }
    return (ObjectNode) csr.get("status");
  }

  @Override
  public void send(Message message) {}

  @Override
  public void addListener(CloudLinkListener l) {
    listeners.add(l);
  }

  void setConnected(boolean c) {
    connected = c;
    for (CloudLinkListener l : listeners) {
      if (c) {
        l.connected();
      } else {
        l.disconnected();
      }
    }
  }
}
