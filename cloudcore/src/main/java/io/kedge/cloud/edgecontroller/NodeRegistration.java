package io.kedge.cloud.edgecontroller;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.protocol.Json;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An edge's first join ({@code insert <ns>/node/<node>}): cloudcore creates the Node with its own
 * rights, because it adds the role labels KubeEdge's cloud gives every edge node ({@link
 * #GRANTED}), which NodeRestriction refuses to a kubelet. Everything else in the registration is
 * the node's own claim and is judged as the node's own: first a server-side dry-run create as
 * {@code system:node:<node>} in {@code system:nodes}, so that the apiserver's Node authorizer and
 * NodeRestriction (labels, {@code configSource}, whatever the apiserver's version checks) decide
 * exactly as for a kubelet, storing nothing; only a registration that passes is created.
 *
 * <p>Later changes to the Node from the edge (update, patch, status) run as the node, so the same
 * rules apply to them without a check here.
 */
final class NodeRegistration {
  /**
   * Labels cloudcore gives every edge node, with the value it gives them. The edge label is set
   * whatever the edge sends; {@code agent} is kept when the edge sends it with this value
   * (KubeEdge's edged does).
   */
  static final Map<String, String> GRANTED =
      Map.of(EdgeController.EDGE_LABEL, "", "node-role.kubernetes.io/agent", "");

  /** What registering decided. */
  record Outcome(Kind kind, Node node, KubernetesClientException error) {
    enum Kind {
      /** The Node was created (with the edge label). */
      CREATED,
      /** A Node of that name exists; nothing was written. */
      EXISTS,
      /** The apiserver would refuse the registration to the node itself; nothing was written. */
      REFUSED
    }
  }

  private final KubeClients kube;
  private final KubernetesSerialization ser;

  NodeRegistration(KubeClients kube) {
    this.kube = kube;
    this.ser = kube.own().getKubernetesSerialization();
  }

  /**
   * Registers {@code node} from the edge's Node object (its name and identity fields are replaced).
   *
   * @throws KubernetesClientException for failures other than a refusal or an existing Node
   */
  Outcome register(String node, JsonNode content) {
    ObjectNode claim = claim(node, content);
    try {
      kube.asNode(node)
          .nodes()
          .resource(ser.unmarshal(Json.string(claim), Node.class))
          .dryRun()
          .create();
    } catch (KubernetesClientException e) {
      return refusedOrExists(e);
    }
    ObjectNode labels = labels(claim);
    JsonNode sent = content.path("metadata").path("labels");
    for (Map.Entry<String, String> g : GRANTED.entrySet()) {
      if (g.getKey().equals(EdgeController.EDGE_LABEL) || sent.has(g.getKey())) {
        labels.put(g.getKey(), g.getValue());
      }
    }
    try {
      Node created =
          kube.own().nodes().resource(ser.unmarshal(Json.string(claim), Node.class)).create();
      return new Outcome(Outcome.Kind.CREATED, created, null);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return new Outcome(Outcome.Kind.EXISTS, null, e);
      }
      throw e;
    }
  }

  private static Outcome refusedOrExists(KubernetesClientException e) {
    if (e.getCode() == 409) {
      return new Outcome(Outcome.Kind.EXISTS, null, e);
    }
    if (e.getCode() >= 400 && e.getCode() < 500 && e.getCode() != 429) {
      return new Outcome(Outcome.Kind.REFUSED, null, e);
    }
    throw e;
  }

  /**
   * What the node asks for in its own name: the edge's object with its name, without identity
   * fields the apiserver assigns, and without the labels cloudcore grants (those are cloudcore's to
   * set, not the node's).
   */
  static ObjectNode claim(String node, JsonNode content) {
    ObjectNode body = content.isObject() ? ((ObjectNode) content).deepCopy() : Json.object();
    ObjectNode meta =
        body.has("metadata") && body.get("metadata").isObject()
            ? (ObjectNode) body.get("metadata")
            : body.putObject("metadata");
    meta.put("name", node);
    meta.remove("resourceVersion");
    meta.remove("uid");
    meta.remove("namespace");
    ObjectNode labels = labels(body);
    labels.remove(EdgeController.EDGE_LABEL);
    for (Map.Entry<String, String> g : GRANTED.entrySet()) {
      JsonNode v = labels.get(g.getKey());
      if (v != null && v.isString() && g.getValue().equals(v.asString())) {
        labels.remove(g.getKey());
      }
    }
    body.put("apiVersion", "v1");
    body.put("kind", "Node");
    return body;
  }

  private static ObjectNode labels(ObjectNode body) {
    ObjectNode meta = (ObjectNode) body.get("metadata");
    return meta.has("labels") && meta.get("labels").isObject()
        ? (ObjectNode) meta.get("labels")
        : meta.putObject("labels");
  }
}
