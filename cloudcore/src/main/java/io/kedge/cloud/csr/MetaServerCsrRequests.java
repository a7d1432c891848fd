package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An edge's MetaServer serving-certificate CSR, in KubeEdge's exchange: {@code
 * <ns>/certificatesigningrequest/<name>} with operation {@code insert} (body: the CSR) to create
 * it, {@code query} to poll it. Replies are {@code edgecontroller/resource/response} on the same
 * resource, as KubeEdge's cloud sends them:
 *
 * <ul>
 *   <li>{@code insert}: {@code {"Object": <CSR> | null, "Err": null | {"ErrStatus": Status}}}.
 *   <li>{@code query}: the bare CSR with header {@code resourceversion} = its resourceVersion, or
 *       {@code {"ErrStatus": Status}} (e.g. 404) without it. KubeEdge's edge reads the poll's body
 *       as the CSR itself; a wrapped body reads there as a CSR without UID, and its certificate
 *       manager gives up ("changed UIDs").
 * </ul>
 *
 * <p>A node may only create and read its own {@code metaserver-csr-<node>}. Creation runs as the
 * node, so the CSR's requester is the node. When a CSR of that name exists, the apiserver's 409
 * AlreadyExists reaches the edge if the existing CSR is one it can reuse — KubeEdge's edge then
 * reads it and waits for it when it was made with the same key ({@code ensureCompatible} of its
 * certificate manager); otherwise (another key, subject, signer or requester, or Denied/Failed) the
 * existing one is deleted (as cloudcore) and the request created again, with the reason logged.
 * Reads run as cloudcore (nodes may not get CSRs by name in every cluster).
 */
public final class MetaServerCsrRequests implements UpstreamHandler {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerCsrRequests.class);

  private final KubeClients clients;
  private final EdgeMessenger messenger;
  private final ExecutorService executor;

  /**
   * @param executor where the API calls run (the caller's thread must not block)
   */
  public MetaServerCsrRequests(
      KubeClients clients, EdgeMessenger messenger, ExecutorService executor) {
    this.clients = clients;
    this.messenger = messenger;
    this.executor = executor;
  }

  @Override
  public void handle(String node, Message m) {
    // No ACK asked: KubeEdge's cloud sends its CSR replies without (the edge ACKs them anyway).
    executor.execute(() -> messenger.send(node, answer(node, m)));
  }

  /** The reply to one request (blocking). */
  public Message answer(String node, Message m) {
    ResourcePath rp = ResourcePath.parse(m.resource());
    String name = rp.name();
    String own = MetaServerCsrPolicy.NAME_PREFIX + node;
    boolean query = Operations.QUERY.equals(m.operation());
    if (!own.equals(name)) {
      ObjectNode forbidden =
          KubeStatus.withDetails(
              KubeStatus.failure(
                  403,
                  "Forbidden",
                  "certificatesigningrequests.certificates.k8s.io \""
                      + name
                      + "\" is forbidden: node "
                      + node
                      + " may only request "
                      + own),
              name,
              "certificates.k8s.io",
              "certificatesigningrequests");
      return query ? bare(m, null, forbidden) : objectResp(m, null, forbidden);
    }
    try {
      return switch (m.operation()) {
        case Operations.INSERT -> create(node, m, own);
        case Operations.QUERY -> poll(m, own);
        default ->
            objectResp(
                m,
                null,
                KubeStatus.failure(
                    405, "MethodNotAllowed", "operation " + m.operation() + " on " + own));
      };
    } catch (KubernetesClientException e) {
      LOG.warn("node {}: CSR {} {} failed: {}", node, own, m.operation(), e.getMessage());
      ObjectNode status = status(e);
      return query ? bare(m, null, status) : objectResp(m, null, status);
    } catch (RuntimeException e) {
      LOG.warn("node {}: CSR {} {}: bad request: {}", node, own, m.operation(), e.toString());
      ObjectNode status =
          KubeStatus.failure(400, "BadRequest", "not a CertificateSigningRequest: " + e);
      return query ? bare(m, null, status) : objectResp(m, null, status);
    }
  }

  private Message create(String node, Message m, String own) {
    CertificateSigningRequest req =
        clients
            .own()
            .getKubernetesSerialization()
            .unmarshal(Json.string(m.content()), CertificateSigningRequest.class);
    if (req == null || req.getMetadata() == null || req.getSpec() == null) {
      throw new IllegalArgumentException("metadata or spec missing");
    }
    req.getMetadata().setName(own);
    req.getMetadata().setResourceVersion(null);
    req.getMetadata().setUid(null);
    req.setStatus(null);
    try {
      return created(node, m, own, createAsNode(node, req));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      CertificateSigningRequest existing =
          clients.own().certificates().v1().certificateSigningRequests().withName(own).get();
      if (existing == null) {
        // gone in between: this request can take the name
        return created(node, m, own, createAsNode(node, req));
      }
      String why = incompatibility(node, existing, req);
      if (why == null) {
        LOG.info(
            "node {}: CSR {} exists with the key of this request: answered 409 AlreadyExists,"
                + " the edge reuses it",
            node,
            own);
        return objectResp(m, null, status(e));
      }
      clients.own().certificates().v1().certificateSigningRequests().withName(own).delete();
      LOG.info("node {}: replacing CSR {}: {}", node, own, why);
      return created(node, m, own, createAsNode(node, req));
    }
  }

  private CertificateSigningRequest createAsNode(String node, CertificateSigningRequest req) {
    return clients
        .asNode(node)
        .certificates()
        .v1()
        .certificateSigningRequests()
        .resource(req)
        .create();
  }

  private Message created(String node, Message m, String own, CertificateSigningRequest created) {
    LOG.info("node {}: created CSR {}", node, own);
    return objectResp(m, created, null);
  }

  private Message poll(Message m, String own) {
    CertificateSigningRequest got =
        clients.own().certificates().v1().certificateSigningRequests().withName(own).get();
    if (got == null) {
      return bare(
          m,
          null,
          KubeStatus.withDetails(
              KubeStatus.failure(
                  404,
                  "NotFound",
                  "certificatesigningrequests.certificates.k8s.io \"" + own + "\" not found"),
              own,
              "certificates.k8s.io",
              "certificatesigningrequests"));
    }
    return bare(m, got, null);
  }

  /**
   * Why the edge cannot reuse {@code existing} for {@code wanted}, or null when it can: made by the
   * node with the same key, subject and signer, and neither denied nor failed.
   */
  static String incompatibility(
      String node, CertificateSigningRequest existing, CertificateSigningRequest wanted) {
    if (existing.getStatus() != null && existing.getStatus().getConditions() != null) {
      for (CertificateSigningRequestCondition c : existing.getStatus().getConditions()) {
        if (("Denied".equals(c.getType()) || "Failed".equals(c.getType()))
            && !"False".equals(c.getStatus())) {
          return "the existing one was " + c.getType().toLowerCase() + " (" + c.getReason() + ")";
        }
      }
    }
    if (existing.getSpec() == null) {
      return "the existing one has no spec";
    }
    String user = "system:node:" + node;
    if (!user.equals(existing.getSpec().getUsername())) {
      return "the existing one was requested by \""
          + existing.getSpec().getUsername()
          + "\", not by "
          + user;
    }
    if (!Objects.equals(existing.getSpec().getSignerName(), wanted.getSpec().getSignerName())) {
      return "the existing one is for signer " + existing.getSpec().getSignerName();
    }
    PKCS10CertificationRequest had = parse(existing.getSpec().getRequest());
    PKCS10CertificationRequest want = parse(wanted.getSpec().getRequest());
    if (had == null) {
      return "the existing one's request cannot be read";
    }
    if (want == null) {
      return "the new request cannot be read"; // the apiserver will say so on create
    }
    if (!had.getSubject().equals(want.getSubject())) {
      return "the existing one is for subject " + had.getSubject();
    }
    try {
      if (!Arrays.equals(
          had.getSubjectPublicKeyInfo().getEncoded(),
          want.getSubjectPublicKeyInfo().getEncoded())) {
        return "the existing one was made with another key";
      }
    } catch (java.io.IOException e) {
      return "the existing one's key cannot be read";
    }
    return null;
  }

  private static PKCS10CertificationRequest parse(String base64Pem) {
    try {
      return Pem.csr(new String(Base64.getDecoder().decode(base64Pem), StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private ObjectNode status(KubernetesClientException e) {
    return e.getStatus() != null
        ? (ObjectNode) Json.parse(clients.own().getKubernetesSerialization().asJson(e.getStatus()))
        : KubeStatus.failure(500, "InternalError", String.valueOf(e.getMessage()));
  }

  /** {@code {"Object": …, "Err": …}}, as KubeEdge answers a create. */
  private Message objectResp(Message m, CertificateSigningRequest obj, ObjectNode status) {
    ObjectNode body = Json.object();
    body.set("Object", obj == null ? NullNode.getInstance() : json(obj));
    body.set("Err", status == null ? NullNode.getInstance() : KubeStatus.errStatus(status));
    return reply(m, body, "");
  }

  /** The object itself with its resourceVersion in the header, or {@code {"ErrStatus": …}}. */
  private Message bare(Message m, CertificateSigningRequest obj, ObjectNode status) {
    if (obj == null) {
      return reply(m, KubeStatus.errStatus(status), "");
    }
    JsonNode body = json(obj);
    return reply(m, body, body.path("metadata").path("resourceVersion").asString(""));
  }

  private JsonNode json(CertificateSigningRequest obj) {
    return Json.parse(clients.own().getKubernetesSerialization().asJson(obj));
  }

  private static Message reply(Message request, JsonNode content, String resourceVersion) {
    // KubeEdge answers from the EdgeController: edgecontroller/resource/response
    return new Message(
        MessageHeader.replyTo(request.id()).withResourceVersion(resourceVersion),
        new MessageRoute(
            Sources.EDGE_CONTROLLER,
            Sources.GROUP_RESOURCE,
            Operations.RESPONSE,
            request.resource()),
        content);
  }
}
