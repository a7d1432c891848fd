package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.status.KubeStatus;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An edge's MetaServer serving-certificate CSR, as KubeEdge's edge sends it: {@code
 * <ns>/certificatesigningrequest/<name>} with operation {@code insert} (body: the CSR) to create
 * it, {@code query} to poll it. The reply keeps the resource, has operation {@code response} and
 * the body {@code {"Object": <CSR>, "Err": null | {"ErrStatus": Status}}}.
 *
 * <p>A node may only create and read its own {@code metaserver-csr-<node>}. Creation runs as the
 * node, so the CSR's requester is the node; a stale CSR of that name is deleted first (as
 * cloudcore), since the apiserver would otherwise refuse the name until the controller-manager's
 * hourly clean-up. Reads run as cloudcore (nodes may not get CSRs by name in every cluster).
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
    executor.execute(() -> messenger.send(node, answer(node, m)));
  }

  /** The reply to one request (blocking). */
  public Message answer(String node, Message m) {
    ResourcePath rp = ResourcePath.parse(m.resource());
    String name = rp.name();
    String own = MetaServerCsrPolicy.NAME_PREFIX + node;
    if (!own.equals(name)) {
      return reply(
          m,
          null,
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
              "certificatesigningrequests"));
    }
    var csrs = clients.own().certificates().v1().certificateSigningRequests();
    try {
      switch (m.operation()) {
        case Operations.INSERT -> {
          CertificateSigningRequest req =
              clients
                  .own()
                  .getKubernetesSerialization()
                  .unmarshal(Json.string(m.content()), CertificateSigningRequest.class);
          req.getMetadata().setName(own);
          req.getMetadata().setResourceVersion(null);
          req.getMetadata().setUid(null);
          req.setStatus(null);
          if (csrs.withName(own).get() != null) {
            csrs.withName(own).delete();
            LOG.info("node {}: deleted the previous CSR {}", node, own);
          }
          CertificateSigningRequest created =
              clients
                  .asNode(node)
                  .certificates()
                  .v1()
                  .certificateSigningRequests()
                  .resource(req)
                  .create();
          LOG.info("node {}: created CSR {}", node, own);
          return reply(m, created, null);
        }
        case Operations.QUERY -> {
          CertificateSigningRequest got = csrs.withName(own).get();
          if (got == null) {
            return reply(
                m,
                null,
                KubeStatus.notFound("certificates.k8s.io", "certificatesigningrequests", own));
          }
          return reply(m, got, null);
        }
        default -> {
          return reply(
              m,
              null,
              KubeStatus.failure(
                  405, "MethodNotAllowed", "operation " + m.operation() + " on " + own));
        }
      }
    } catch (KubernetesClientException e) {
      LOG.warn("node {}: CSR {} {} failed: {}", node, own, m.operation(), e.getMessage());
      ObjectNode status =
          e.getStatus() != null
              ? (ObjectNode)
                  Json.parse(clients.own().getKubernetesSerialization().asJson(e.getStatus()))
              : KubeStatus.failure(500, "InternalError", String.valueOf(e.getMessage()));
      return reply(m, null, status);
    }
  }

  private Message reply(Message m, CertificateSigningRequest obj, ObjectNode status) {
    ObjectNode body = Json.object();
    if (obj == null) {
      body.putNull("Object");
    } else {
      JsonNode o = Json.parse(clients.own().getKubernetesSerialization().asJson(obj));
      body.set("Object", o);
    }
    if (status == null) {
      body.putNull("Err");
    } else {
      body.set("Err", KubeStatus.errStatus(status));
    }
    // KubeEdge answers from the EdgeController: edgecontroller/resource/response
    return m.reply(body)
        .withRoute(
            new io.kedge.protocol.message.MessageRoute(
                io.kedge.protocol.message.Sources.EDGE_CONTROLLER,
                io.kedge.protocol.message.Sources.GROUP_RESOURCE,
                Operations.RESPONSE,
                m.resource()));
  }
}
