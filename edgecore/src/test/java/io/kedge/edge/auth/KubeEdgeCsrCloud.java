package io.kedge.edge.auth;

import io.kedge.edge.GoldenTrace;
import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * KubeEdge v1.17.0's cloud side of the MetaServer CSR exchange (unit tests only), answering in the
 * recorded shapes: an insert with {@code {"Object","Err"}} (seq 161; on a taken name the empty CSR
 * and a 409 AlreadyExists StatusError, as its EdgeController forwards the apiserver's error), a
 * query with the bare CSR and the header's {@code resourceversion} (seq 293), or {@code
 * {"ErrStatus"}} when there is none. It creates and reads CSRs of any name and deletes none. CSRs
 * are approved and signed by a test CA (the recorded certificate is from a deleted cluster) after
 * {@code approveAfterPolls} queries of that name.
 */
final class KubeEdgeCsrCloud implements CloudLink {
  static final GoldenTrace TRACE = GoldenTrace.load();

  final CertificateAuthority ca =
      CertificateAuthority.create("test-ca", KeyPairs.ecP256(), Duration.ofDays(1));
  final Map<String, ObjectNode> csrs = new ConcurrentHashMap<>();
  final List<Message> received = new CopyOnWriteArrayList<>();
  final List<Message> sent = new CopyOnWriteArrayList<>();
  final List<CloudLinkListener> listeners = new CopyOnWriteArrayList<>();
  final AtomicInteger inserts = new AtomicInteger();
  final Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
  volatile int approveAfterPolls = 1;
  private final AtomicInteger rv = new AtomicInteger(355);

  @Override
  public boolean isConnected() {
    return true;
  }

  @Override
  public synchronized CompletableFuture<Message> request(Message m, Duration timeout) {
    received.add(m);
    String name = ResourcePath.parse(m.resource()).name();
    if (Operations.INSERT.equals(m.operation())) {
      inserts.incrementAndGet();
      ObjectNode body = (ObjectNode) GoldenTrace.content(TRACE.message(161)).deepCopy();
      if (csrs.containsKey(name)) {
        ObjectNode empty = Json.object();
        empty.putObject("metadata").putNull("creationTimestamp");
        empty.putObject("spec").putNull("request").put("signerName", "");
        empty.putObject("status");
        body.set("Object", empty);
        body.set(
            "Err",
            KubeStatus.errStatus(
                KubeStatus.withDetails(
                    KubeStatus.failure(
                        409,
                        "AlreadyExists",
                        "certificatesigningrequests.certificates.k8s.io \""
                            + name
                            + "\" already exists"),
                    name,
                    "certificates.k8s.io",
                    "certificatesigningrequests")));
        return reply(m, body, "");
      }
      ObjectNode created = created(name, GoldenTrace.content(m.content()));
      csrs.put(name, created);
      ObjectNode obj = created.deepCopy();
      obj.remove("kind"); // the insert answer carries no type meta (seq 161)
      obj.remove("apiVersion");
      body.set("Object", obj);
      return reply(m, body, "");
    }
    ObjectNode csr = csrs.get(name);
    if (csr == null) {
      return reply(
          m,
          KubeStatus.errStatus(
              KubeStatus.notFound("certificates.k8s.io", "certificatesigningrequests", name)),
          "");
    }
    if (polls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet() >= approveAfterPolls
        && !csr.path("status").has("certificate")) {
      approve(csr);
    }
    return reply(m, csr.deepCopy(), csr.path("metadata").path("resourceVersion").asString());
  }

  /** A CSR as the apiserver stores it, in the shape of the recorded one (seq 293). */
  ObjectNode created(String name, JsonNode request) {
    ObjectNode csr = (ObjectNode) GoldenTrace.content(TRACE.message(293)).deepCopy();
    ObjectNode meta = (ObjectNode) csr.get("metadata");
    meta.put("name", name);
    meta.put("uid", java.util.UUID.randomUUID().toString());
    meta.put("resourceVersion", String.valueOf(rv.incrementAndGet()));
    csr.set("spec", request.path("spec").deepCopy());
    csr.remove("status");
    return csr;
  }

  void approve(ObjectNode csr) {
    ObjectNode status = csr.putObject("status");
    status
        .putArray("conditions")
        .addObject()
        .put("type", "Approved")
        .put("status", "True")
        .put("reason", "AutoApproved")
        .put("message", "Auto approving MetaServer serving certificate.");
    status.put("certificate", sign(csr.path("spec").path("request").asString()));
    ((ObjectNode) csr.get("metadata")).put("resourceVersion", String.valueOf(rv.incrementAndGet()));
  }

  private String sign(String requestB64) {
    try {
      PKCS10CertificationRequest req =
          Pem.csr(new String(Base64.getDecoder().decode(requestB64), StandardCharsets.US_ASCII));
      var key = new JcaPEMKeyConverter().getPublicKey(req.getSubjectPublicKeyInfo());
      var cert =
          ca.issue(
              CertSpec.server(
                  req.getSubject().toString(),
                  List.of("127.0.0.1"),
                  List.of(),
                  Duration.ofHours(1)),
              key);
      return Base64.getEncoder()
          .encodeToString(Pem.encode(cert).getBytes(StandardCharsets.US_ASCII));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private CompletableFuture<Message> reply(Message m, JsonNode body, String resourceVersion) {
    Message r =
        new Message(
            resourceVersion.isEmpty()
                ? MessageHeader.replyTo(m.id())
                : MessageHeader.replyTo(m.id()).withResourceVersion(resourceVersion),
            new io.kedge.protocol.message.MessageRoute(
                "edgecontroller", "resource", Operations.RESPONSE, m.resource()),
            body);
    return CompletableFuture.completedFuture(r);
  }

  @Override
  public void send(Message message) {
    sent.add(message);
  }

  @Override
  public void addListener(CloudLinkListener l) {
    listeners.add(l);
  }
}
