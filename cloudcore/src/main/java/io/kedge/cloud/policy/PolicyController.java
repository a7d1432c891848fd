package io.kedge.cloud.policy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.ha.Leadership;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.NodeSessionListener;
import io.kedge.cloud.kube.KeyedWorkQueue;
import io.kedge.cloud.kube.KeyedWorkQueue.Result;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keeps one {@code ServiceAccountAccess} per service account used by pods on edge nodes, built from
 * the RBAC objects that apply to it, and sends it to exactly the edge nodes running those pods
 * ({@code <ns>/serviceaccountaccess/<name>}, source {@code policycontroller}, group {@code
 * resource}, with the object's resourceVersion). It reacts to Pods, edge Nodes, ServiceAccounts,
 * Roles, ClusterRoles, their bindings and the ServiceAccountAccess objects themselves. A node that
 * (re)connects gets every object meant for it again, and deletions it missed.
 *
 * <p>Runs only with {@code featureGates.requireAuthorization}. Reads come from informers; writes
 * use cloudcore's own identity.
 *
 * <p>With several cloudcores every one of them computes the same objects, but only the leader
 * ({@link Leadership}) writes them; the others wait until the objects as written match what they
 * computed (each write brings its key back through the informer) and then send them to the nodes
 * they hold. Updates and deletions carry the version they were decided on, so that a leader that
 * lost the lead without knowing it yet cannot overwrite what the new one wrote.
 */
public final class PolicyController implements NodeSessionListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyController.class);

  public static final String GROUP = "policy.kubeedge.io";
  public static final String VERSION = "v1alpha1";
  public static final String KIND = "ServiceAccountAccess";
  public static final String EDGE_NODE_LABEL = "node-role.kubernetes.io/edge";
  public static final ResourceDefinitionContext SAA_CONTEXT =
      new ResourceDefinitionContext.Builder()
          .withGroup(GROUP)
          .withVersion(VERSION)
          .withKind(KIND)
          .withPlural("serviceaccountaccesses")
          .withNamespaced(true)
          .build();

  private static final String BY_SA = "serviceAccount";
  private static final String BY_NODE = "node";

  private final KubernetesClient client;
  private final EdgeMessenger messenger;
  private final Leadership leadership;
  private final AccessSpecBuilder builder;
  private final KeyedWorkQueue queue;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

  private SharedIndexInformer<Pod> pods;
  private SharedIndexInformer<Node> edgeNodes;
  private SharedIndexInformer<ServiceAccount> serviceAccounts;
  private SharedIndexInformer<Role> roles;
  private SharedIndexInformer<ClusterRole> clusterRoles;
  private SharedIndexInformer<RoleBinding> roleBindings;
  private SharedIndexInformer<ClusterRoleBinding> clusterRoleBindings;
  private SharedIndexInformer<GenericKubernetesResource> accesses;

  /** What each node was last sent, by key (worker thread only). */
  private final Map<String, Sent> sent = new HashMap<>();

  /** Deletions a node has not acknowledged, by node: what was deleted, as it was last sent. */
  private final Map<String, Map<String, Sent>> missedDeletes = new ConcurrentHashMap<>();

  private final java.util.concurrent.atomic.AtomicBoolean rbacPending =
      new java.util.concurrent.atomic.AtomicBoolean();

  private record Sent(JsonNode object, String resourceVersion, Set<String> nodes) {}

  public PolicyController(KubernetesClient client, EdgeMessenger messenger) {
    this(client, messenger, Leadership.ALONE);
  }

  /**
   * @param leadership whether this cloudcore writes the objects (the others only send them)
   */
  public PolicyController(KubernetesClient client, EdgeMessenger messenger, Leadership leadership) {
    this.client = client;
    this.messenger = messenger;
    this.leadership = leadership;
    this.builder = new AccessSpecBuilder(client.getKubernetesSerialization());
    this.queue = new KeyedWorkQueue("policycontroller", this::reconcile);
  }

  /** Starts the informers, waits until they have synced, then reconciles everything. */
  public void start(Duration syncTimeout) {
    // what was left to the former leader is looked at again
    leadership.addListener(() -> queue.execute(this::enqueueAll));
    pods = client.pods().inAnyNamespace().runnableInformer(0);
    pods.addIndexers(
        Map.of(
            BY_SA,
            p ->
                p.getSpec() == null || isEmpty(p.getSpec().getNodeName())
                    ? List.of()
                    : List.of(saKey(p)),
            BY_NODE,
            p ->
                p.getSpec() == null || isEmpty(p.getSpec().getNodeName())
                    ? List.of()
                    : List.of(p.getSpec().getNodeName())));
    pods.addEventHandler(
        handler(
            p -> {
              if (p.getSpec() != null && !isEmpty(p.getSpec().getNodeName())) {
                queue.add(saKey(p));
              }
            }));
    edgeNodes = client.nodes().withLabel(EDGE_NODE_LABEL).runnableInformer(0);
    edgeNodes.addEventHandler(
        handler(
            n -> {
              for (Pod p : pods.getIndexer().byIndex(BY_NODE, n.getMetadata().getName())) {
                queue.add(saKey(p));
              }
            }));
    serviceAccounts = client.serviceAccounts().inAnyNamespace().runnableInformer(0);
    serviceAccounts.addEventHandler(handler(sa -> queue.add(key(sa))));
    roles = client.rbac().roles().inAnyNamespace().runnableInformer(0);
    clusterRoles = client.rbac().clusterRoles().runnableInformer(0);
    roleBindings = client.rbac().roleBindings().inAnyNamespace().runnableInformer(0);
    clusterRoleBindings = client.rbac().clusterRoleBindings().runnableInformer(0);
    for (SharedIndexInformer<? extends HasMetadata> i :
        List.of(roles, clusterRoles, roleBindings, clusterRoleBindings)) {
      i.addEventHandler(handler(o -> rbacChanged()));
    }
    accesses = client.genericKubernetesResources(SAA_CONTEXT).inAnyNamespace().runnableInformer(0);
    accesses.addEventHandler(handler(a -> queue.add(key(a))));
    informers.addAll(
        List.of(
            pods,
            edgeNodes,
            serviceAccounts,
            roles,
            clusterRoles,
            roleBindings,
            clusterRoleBindings,
            accesses));
    List<CompletableFuture<Void>> started = new ArrayList<>();
    for (SharedIndexInformer<?> i : informers) {
      started.add(i.start().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
          .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "PolicyController: informers did not sync within " + syncTimeout + ": " + e, e);
    }
    queue.execute(
        () -> {
          for (GenericKubernetesResource a : accesses.getStore().list()) {
            List<String> nodes = nodeList(a);
            if (!nodes.isEmpty()) {
              sent.put(key(a), new Sent(message(a), rv(a), new TreeSet<>(nodes)));
            }
          }
          enqueueAll();
        });
    LOG.info("PolicyController started");
  }

  @Override
  public void connected(String node) {
    queue.execute(() -> resendTo(node));
  }

  // ------------------------------------------------------------------ reconcile

  /** Any RBAC change may touch any service account: re-evaluate all, coalescing bursts. */
  private void rbacChanged() {
    if (rbacPending.compareAndSet(false, true)) {
      queue.execute(
          () -> {
            rbacPending.set(false);
            enqueueAll();
          });
    }
  }

  private void enqueueAll() {
    Set<String> keys = new TreeSet<>();
    for (Pod p : pods.getStore().list()) {
      if (p.getSpec() != null && onEdge(p.getSpec().getNodeName())) {
        keys.add(saKey(p));
      }
    }
    for (GenericKubernetesResource a : accesses.getStore().list()) {
      keys.add(key(a));
    }
    keys.addAll(sent.keySet());
    queue.addAll(keys);
  }

  private Result reconcile(String key) {
    int slash = key.indexOf('/');
    String ns = key.substring(0, slash);
    String name = key.substring(slash + 1);
    ServiceAccount sa = serviceAccounts.getStore().getByKey(key);
    Set<String> nodes = new TreeSet<>();
    for (Pod p : pods.getIndexer().byIndex(BY_SA, key)) {
      if (onEdge(p.getSpec().getNodeName())) {
        nodes.add(p.getSpec().getNodeName());
      }
    }
    boolean leading = leadership.isLeader();
    Resource<GenericKubernetesResource> ref = saas().inNamespace(ns).withName(name);
    GenericKubernetesResource existing = ref.get();
    Sent before = sent.get(key);
    Set<String> had = new TreeSet<>();
    if (before != null) {
      had.addAll(before.nodes());
    }
    if (existing != null) {
      had.addAll(nodeList(existing));
    }

    boolean saGone = sa == null || sa.getMetadata().getDeletionTimestamp() != null;
    if (saGone || nodes.isEmpty()) {
      if (existing != null) {
        if (!leading) {
          return Result.DONE; // the leader deletes it; the deletion brings the key back here
        }
        ref.lockResourceVersion(rv(existing)).delete();
        LOG.info(
            "ServiceAccountAccess {} deleted ({})",
            key,
            saGone ? "service account gone" : "no pods on edge nodes");
      }
      if (!had.isEmpty()) {
        Sent gone =
            before != null ? before : new Sent(message(existing), rv(existing), new TreeSet<>(had));
        for (String n : had) {
          sendDelete(n, key, gone);
        }
      }
      sent.remove(key);
      return Result.DONE;
    }

    ObjectNode spec =
        builder.spec(
            sa,
            clusterRoleBindings.getStore().list(),
            roleBindings.getStore().list(),
            clusterRoles.getStore()::getByKey,
            (rns, rn) -> roles.getStore().getByKey(rns + "/" + rn));
    GenericKubernetesResource obj;
    if (existing == null) {
      if (!leading) {
        return Result.DONE; // the leader creates it
      }
      GenericKubernetesResource fresh = new GenericKubernetesResource();
      fresh.setApiVersion(GROUP + "/" + VERSION);
      fresh.setKind(KIND);
      fresh.setMetadata(
          new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
              .withName(name)
              .withNamespace(ns)
              .build());
      fresh.setAdditionalProperty("spec", toMap(spec));
      obj = saas().inNamespace(ns).resource(fresh).create();
      LOG.info("ServiceAccountAccess {} created for nodes {}", key, nodes);
    } else {
      JsonNode current =
          Json.parse(
              client
                  .getKubernetesSerialization()
                  .asJson(existing.getAdditionalProperties().get("spec")));
      obj = existing;
      if (!spec.equals(current)) {
        if (!leading) {
          return Result.DONE; // the leader updates it
        }
        obj.setAdditionalProperty("spec", toMap(spec));
        // update(), not replace(): refused when the object changed since it was read
        obj = saas().inNamespace(ns).resource(obj).update();
        LOG.info("ServiceAccountAccess {} updated (rbac changed)", key);
      }
    }
    if (!new TreeSet<>(nodeList(obj)).equals(nodes)) {
      if (!leading) {
        return Result.DONE;
      }
      obj.setAdditionalProperty("status", Map.of("nodeList", new ArrayList<>(nodes)));
      obj = saas().inNamespace(ns).resource(obj).updateStatus();
    }
    JsonNode body = message(obj);
    String rv = rv(obj);
    Sent now = new Sent(body, rv, nodes);
    for (String n : had) {
      if (!nodes.contains(n)) {
        sendDelete(n, key, now);
      }
    }
    // As KubeEdge's: a changed spec (a new object's first) goes to every node as an update, an
    // unchanged one to nodes that did not have it as an insert (the edge stores both alike).
    boolean specChanged = before == null || !before.object().path("spec").equals(body.path("spec"));
    for (String n : nodes) {
      if (specChanged) {
        send(n, key, Operations.UPDATE, body, rv);
      } else if (!had.contains(n)) {
        send(n, key, Operations.INSERT, body, rv);
      }
    }
    sent.put(key, now);
    return Result.DONE;
  }

  /**
   * A node that (re)connects here gets what it lacks: the objects meant for it in versions it has
   * not acknowledged (its ObjectSyncs decide; what it has is not sent again, wherever it got it),
   * and the deletions it missed.
   */
  private void resendTo(String node) {
    Map<String, Sent> deletes = missedDeletes.remove(node);
    for (Map.Entry<String, Sent> e : sent.entrySet()) {
      Sent s = e.getValue();
      if (s.nodes().contains(node)) {
        messenger.redeliver(
            node, message(node, e.getKey(), Operations.INSERT, s.object(), s.resourceVersion()));
        if (deletes != null) {
          deletes.remove(e.getKey());
        }
      }
    }
    if (deletes != null) {
      deletes.forEach((key, gone) -> sendDelete(node, key, gone));
    }
  }

  private void sendDelete(String node, String key, Sent gone) {
    missedDeletes.computeIfAbsent(node, n -> new ConcurrentHashMap<>()).put(key, gone);
    if (!messenger.isConnected(node)) {
      return; // sent when it connects here; a node held elsewhere gets it from there
    }
    // a redelivery: skipped when the node acknowledged the deletion already (its ObjectSync is
    // gone)
    messenger
        .redeliver(
            node, message(node, key, Operations.DELETE, gone.object(), gone.resourceVersion()))
        .whenComplete(
            (ok, err) -> {
              if (err == null) {
                Map<String, Sent> d = missedDeletes.get(node);
                if (d != null) {
                  d.remove(key, gone);
                }
              }
            });
  }

  private void send(String node, String key, String op, JsonNode body, String rv) {
    if (!messenger.isConnected(node)) {
      return; // held by another cloudcore, or brought up to date when it connects
    }
    LOG.debug("{} {} to node {}", op, key, node);
    messenger.deliver(node, message(node, key, op, body, rv));
  }

  private static Message message(String node, String key, String op, JsonNode body, String rv) {
    int slash = key.indexOf('/');
    String resource =
        ResourcePath.format(
            key.substring(0, slash), ResourcePath.SERVICE_ACCOUNT_ACCESS, key.substring(slash + 1));
    return new Message(
        MessageHeader.create().withResourceVersion(rv == null ? "" : rv),
        new MessageRoute(Sources.POLICY_CONTROLLER, Sources.GROUP_RESOURCE, op, resource),
        body);
  }

  // ------------------------------------------------------------------ helpers

  private MixedOperation<
          GenericKubernetesResource,
          io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
          Resource<GenericKubernetesResource>>
      saas() {
    return client.genericKubernetesResources(SAA_CONTEXT);
  }

  private boolean onEdge(String node) {
    return !isEmpty(node) && edgeNodes.getStore().getByKey(node) != null;
  }

  /** The object as sent to edges: without status and server-side bookkeeping. */
  private JsonNode message(GenericKubernetesResource a) {
    ObjectNode o = (ObjectNode) Json.parse(client.getKubernetesSerialization().asJson(a));
    if (o.get("metadata") instanceof ObjectNode m) {
      m.remove("managedFields");
    }
    o.putObject("status").putArray("nodeList");
    return o;
  }

  @SuppressWarnings("unchecked")
  private static List<String> nodeList(GenericKubernetesResource a) {
    if (a == null) {
      return List.of();
    }
    Object status = a.getAdditionalProperties().get("status");
    if (status instanceof Map<?, ?> m && m.get("nodeList") instanceof List<?> l) {
      List<String> out = new ArrayList<>();
      for (Object o : l) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
      return out;
    }
    return List.of();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> toMap(JsonNode n) {
    return Json.mapper().treeToValue(n, Map.class);
  }

  private static String rv(GenericKubernetesResource a) {
    return a == null ? "" : a.getMetadata().getResourceVersion();
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  private static String saKey(Pod p) {
    String sa = p.getSpec().getServiceAccountName();
    return p.getMetadata().getNamespace() + "/" + (isEmpty(sa) ? "default" : sa);
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  private static <T> ResourceEventHandler<T> handler(Consumer<T> onChange) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        onChange.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        if (oldObj instanceof Pod op && newObj instanceof Pod np && !saKey(op).equals(saKey(np))) {
          onChange.accept(oldObj);
        }
        onChange.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        onChange.accept(obj);
      }
    };
  }

  @Override
  public void close() {
    queue.close();
    for (SharedIndexInformer<?> i : informers) {
      i.close();
    }
  }
}
