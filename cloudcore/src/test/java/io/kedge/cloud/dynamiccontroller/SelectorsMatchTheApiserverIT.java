package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateRequests;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.Json;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.selector.SelectableFields;
import io.kedge.protocol.selector.SelectorException;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The selectors of {@code io.kedge.protocol.selector} (what decides which events the cloud sends an
 * edge and what MetaServer's clients see) against the real kube-apiserver: objects of several
 * kinds, and a table of label and field selectors, valid and not. Each row is a LIST the apiserver
 * answers and the same selectors evaluated by Kedge on the apiserver's unfiltered list; the names
 * selected, or the refusal's code, reason and message, must be the same.
 */
@WithControlPlane
class SelectorsMatchTheApiserverIT {
  private static final Logger LOG = LoggerFactory.getLogger(SelectorsMatchTheApiserverIT.class);
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** A listable resource: where it is listed and what Kedge is told about it. */
  record Resource(
      String group, String version, String resource, boolean namespaced, String listPath) {
    SelectableFields fields() {
      return SelectableFields.of(group, version, resource, namespaced);
    }
  }

  record Row(Resource res, String labels, String fields) {
    @Override
    public String toString() {
      return res.resource()
          + " ("
          + (res.group().isEmpty() ? "" : res.group() + "/")
          + res.version()
          + ") labelSelector="
          + Json.string(Json.NODES.stringNode(labels == null ? "" : labels))
          + " fieldSelector="
          + Json.string(Json.NODES.stringNode(fields == null ? "" : fields));
    }
  }

  private HttpClient http;
  private String base;

  private JsonNode send(String method, String path, String body, String contentType)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    b.header("Accept", "application/json");
    if (body != null) {
      b.header("Content-Type", contentType);
      b.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode n = Json.parse(r.body());
    if (r.statusCode() >= 300 && !method.equals("GET")) {
      throw new AssertionError(method + " " + path + ": " + r.statusCode() + " " + r.body());
    }
    return n;
  }

  private void create(String path, String json) throws Exception {
    Waits.until(
        "create at " + path,
        WAIT,
        () -> {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(base + path))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(json))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 201 || r.statusCode() == 409) {
            return true;
          }
          if (r.statusCode() == 400 || r.statusCode() == 422) {
            throw new AssertionError("create at " + path + ": " + r.body());
          }
          // a new namespace's default ServiceAccount or a new CRD's endpoint may not be there yet
          LOG.info("create at {}: {} {}", path, r.statusCode(), r.body());
          Thread.sleep(500);
          return false;
        });
  }

  private void patchStatus(String path, String json) throws Exception {
    send("PATCH", path + "/status", json, "application/merge-patch+json");
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** What the apiserver answers: the names it selects among {@code ours}, or its refusal. */
  private String apiserver(Row row, Set<String> ours) throws Exception {
    StringBuilder p = new StringBuilder(row.res().listPath());
    String sep = "?";
    if (row.labels() != null) {
      p.append(sep).append("labelSelector=").append(q(row.labels()));
      sep = "&";
    }
    if (row.fields() != null) {
      p.append(sep).append("fieldSelector=").append(q(row.fields()));
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + p))
                .header("Accept", "application/json")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode n = Json.parse(r.body());
    if (r.statusCode() != 200) {
      return r.statusCode()
          + " "
          + n.path("reason").asString()
          + ": "
          + n.path("message").asString();
    }
    TreeSet<String> names = new TreeSet<>();
    for (JsonNode i : n.path("items")) {
      String name = i.path("metadata").path("name").asString();
      if (ours.contains(name)) {
        names.add(name);
      }
    }
    return "selects " + names;
  }

  /** What Kedge makes of the same selectors over the apiserver's unfiltered list. */
  static String kedge(Row row, JsonNode all, Set<String> ours) {
    LabelSelector labels;
    FieldSelector fields;
    try {
      labels = LabelSelector.parse(row.labels());
      fields = FieldSelector.parse(row.fields(), row.res().fields());
    } catch (SelectorException e) {
      return e.code() + " " + e.reason() + ": " + e.getMessage();
    }
    TreeSet<String> names = new TreeSet<>();
    for (JsonNode i : all.path("items")) {
      String name = i.path("metadata").path("name").asString();
      if (ours.contains(name) && labels.matches(i) && fields.matches(i)) {
        names.add(name);
      }
    }
    return "selects " + names;
  }

  @Test
  void kedgeSelectsWhatTheApiserverSelectsAndRefusesWhatItRefuses(ControlPlane plane)
      throws Exception {
    http = HttpClient.newBuilder().sslContext(plane.adminSslContext()).build();
    base = plane.apiserverUrl();
    String sfx = Long.toString(System.nanoTime() % 1_000_000, 36);
    String ns = "sel-" + sfx;
    String ns2 = "sel-" + sfx + "-b";
    String node1 = "sel-" + sfx + "-n1";
    String node2 = "sel-" + sfx + "-n2";
    Map<Resource, Set<String>> ours = new HashMap<>();

    Resource namespaces = new Resource("", "v1", "namespaces", false, "/api/v1/namespaces");
    for (String n : List.of(ns, ns2)) {
      create(
          "/api/v1/namespaces",
          "{\"metadata\":{\"name\":\"" + n + "\",\"labels\":{\"sel\":\"" + sfx + "\"}}}");
    }
    ours.put(namespaces, Set.of(ns, ns2));

    Resource nodes = new Resource("", "v1", "nodes", false, "/api/v1/nodes");
    create(
        "/api/v1/nodes", "{\"metadata\":{\"name\":\"" + node1 + "\",\"labels\":{\"zone\":\"a\"}}}");
    create(
        "/api/v1/nodes",
        "{\"metadata\":{\"name\":\""
            + node2
            + "\",\"labels\":{\"zone\":\"b\"}},\"spec\":{\"unschedulable\":true}}");
    ours.put(nodes, Set.of(node1, node2));

    Resource configMaps =
        new Resource("", "v1", "configmaps", true, "/api/v1/namespaces/" + ns + "/configmaps");
    Map<String, String> cmLabels = new java.util.LinkedHashMap<>();
    cmLabels.put("cm-a", "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"7\"}");
    cmLabels.put("cm-b", "{\"app\":\"db\",\"n\":\"12\"}");
    cmLabels.put("cm-c", "{\"app\":\"\",\"env\":\"prod\"}");
    cmLabels.put("cm-d", "{}");
    cmLabels.put("cm-e", "{\"example.com/role\":\"x\",\"n\":\"abc\",\"in\":\"notin\"}");
    cmLabels.put("cm-f", "{\"app\":\"web\",\"tier\":\"back\",\"n\":\"03\"}");
    for (var e : cmLabels.entrySet()) {
      create(
          "/api/v1/namespaces/" + ns + "/configmaps",
          "{\"metadata\":{\"name\":\"" + e.getKey() + "\",\"labels\":" + e.getValue() + "}}");
    }
    ours.put(configMaps, cmLabels.keySet());

    Resource pods = new Resource("", "v1", "pods", true, "/api/v1/namespaces/" + ns + "/pods");
    String podSpec =
        "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}],\"automountServiceAccountToken\":false";
    create(
        "/api/v1/namespaces/" + ns + "/pods",
        "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\""
            + node1
            + "\","
            + podSpec
            + "}}");
    create(
        "/api/v1/namespaces/" + ns + "/pods",
        "{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"schedulerName\":\"sel-scheduler\","
            + "\"restartPolicy\":\"Never\","
            + podSpec
            + "}}");
    patchStatus(
        "/api/v1/namespaces/" + ns + "/pods/p1",
        "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.9.8.7\",\"podIPs\":[{\"ip\":\"10.9.8.7\"}]}}");
    patchStatus(
        "/api/v1/namespaces/" + ns + "/pods/p2",
        "{\"status\":{\"nominatedNodeName\":\"" + node2 + "\"}}");
    ours.put(pods, Set.of("p1", "p2"));

    Resource secrets =
        new Resource("", "v1", "secrets", true, "/api/v1/namespaces/" + ns + "/secrets");
    create(
        "/api/v1/namespaces/" + ns + "/secrets",
        "{\"metadata\":{\"name\":\"s-opaque\"},\"data\":{\"x\":\"YQ==\"}}");
    create(
        "/api/v1/namespaces/" + ns + "/secrets",
        "{\"metadata\":{\"name\":\"s-tls\"},\"type\":\"kubernetes.io/tls\","
            + "\"data\":{\"tls.crt\":\"YQ==\",\"tls.key\":\"YQ==\"}}");
    ours.put(secrets, Set.of("s-opaque", "s-tls"));

    Resource rcs =
        new Resource(
            "",
            "v1",
            "replicationcontrollers",
            true,
            "/api/v1/namespaces/" + ns + "/replicationcontrollers");
    String template =
        "\"template\":{\"metadata\":{\"labels\":{\"rc\":\"x\"}},\"spec\":{\"containers\":"
            + "[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
    create(
        rcs.listPath(),
        "{\"metadata\":{\"name\":\"rc-a\"},\"spec\":{\"replicas\":0,\"selector\":{\"rc\":\"x\"},"
            + template
            + "}}");
    ours.put(rcs, Set.of("rc-a"));

    Resource events =
        new Resource("", "v1", "events", true, "/api/v1/namespaces/" + ns + "/events");
    create(
        events.listPath(),
        "{\"metadata\":{\"name\":\"ev-1\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p1\","
            + "\"namespace\":\""
            + ns
            + "\",\"apiVersion\":\"v1\",\"fieldPath\":\"spec.containers{c}\"},"
            + "\"reason\":\"Started\",\"type\":\"Normal\",\"source\":{\"component\":\"kubelet\"},"
            + "\"message\":\"m\"}");
    create(
        events.listPath(),
        "{\"metadata\":{\"name\":\"ev-2\"},\"involvedObject\":{\"kind\":\"ConfigMap\","
            + "\"name\":\"cm-a\",\"namespace\":\""
            + ns
            + "\"},\"reason\":\"Failed\",\"type\":\"Warning\",\"reportingComponent\":\"sel-ctl\","
            + "\"reportingInstance\":\"i\",\"message\":\"m\"}");
    ours.put(events, Set.of("ev-1", "ev-2"));
    Resource newEvents =
        new Resource(
            "events.k8s.io",
            "v1",
            "events",
            true,
            "/apis/events.k8s.io/v1/namespaces/" + ns + "/events");
    ours.put(newEvents, Set.of("ev-1", "ev-2"));

    String podTemplate =
        "\"template\":{\"metadata\":{\"labels\":{\"j\":\"x\"}},\"spec\":{\"restartPolicy\":\"Never\","
            + "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
    Resource jobs =
        new Resource("batch", "v1", "jobs", true, "/apis/batch/v1/namespaces/" + ns + "/jobs");
    create(
        jobs.listPath(),
        "{\"metadata\":{\"name\":\"job-a\"},\"spec\":{\"parallelism\":0," + podTemplate + "}}");
    ours.put(jobs, Set.of("job-a"));

    Resource cronJobs =
        new Resource(
            "batch",
            "v1beta1",
            "cronjobs",
            true,
            "/apis/batch/v1beta1/namespaces/" + ns + "/cronjobs");
    create(
        cronJobs.listPath(),
        "{\"metadata\":{\"name\":\"cj-a\"},\"spec\":{\"schedule\":\"0 0 1 1 *\",\"suspend\":true,"
            + "\"jobTemplate\":{\"spec\":{"
            + podTemplate
            + "}}}}");
    ours.put(cronJobs, Set.of("cj-a"));

    Resource replicaSets =
        new Resource(
            "apps", "v1", "replicasets", true, "/apis/apps/v1/namespaces/" + ns + "/replicasets");
    create(
        replicaSets.listPath(),
        "{\"metadata\":{\"name\":\"rs-a\"},\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":"
            + "{\"rs\":\"x\"}},\"template\":{\"metadata\":{\"labels\":{\"rs\":\"x\"}},\"spec\":"
            + "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}");
    ours.put(replicaSets, Set.of("rs-a"));

    Resource csrs =
        new Resource(
            "certificates.k8s.io",
            "v1",
            "certificatesigningrequests",
            false,
            "/apis/certificates.k8s.io/v1/certificatesigningrequests");
    String csrName = "sel-" + sfx + "-csr";
    String request =
        CertificateRequests.pem(KeyPairs.ecP256(), "sel", List.of(), List.of(), List.of());
    create(
        csrs.listPath(),
        "{\"metadata\":{\"name\":\""
            + csrName
            + "\"},\"spec\":{\"signerName\":\"example.com/sel\",\"usages\":[\"client auth\"],"
            + "\"request\":\""
            + Base64.getEncoder().encodeToString(request.getBytes(StandardCharsets.US_ASCII))
            + "\"}}");
    ours.put(csrs, Set.of(csrName));

    // custom resources: one namespaced, one cluster-scoped
    String group = "sel" + sfx + ".kedge.io";
    for (String[] crd :
        new String[][] {{"widgets", "Widget", "Namespaced"}, {"gadgets", "Gadget", "Cluster"}}) {
      create(
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
          "{\"metadata\":{\"name\":\""
              + crd[0]
              + "."
              + group
              + "\"},\"spec\":{\"group\":\""
              + group
              + "\",\"scope\":\""
              + crd[2]
              + "\",\"names\":{\"plural\":\""
              + crd[0]
              + "\",\"kind\":\""
              + crd[1]
              + "\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
              + "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
              + "\"x-kubernetes-preserve-unknown-fields\":true}}}]}}");
    }
    Resource widgets =
        new Resource(
            group, "v1", "widgets", true, "/apis/" + group + "/v1/namespaces/" + ns + "/widgets");
    Resource gadgets =
        new Resource(group, "v1", "gadgets", false, "/apis/" + group + "/v1/gadgets");
    for (String w : List.of("w1", "w2")) {
      create(
          widgets.listPath(),
          "{\"apiVersion\":\""
              + group
              + "/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\""
              + w
              + "\",\"labels\":{\"w\":\""
              + w
              + "\"}},\"spec\":{\"size\":1}}");
    }
    create(
        gadgets.listPath(),
        "{\"apiVersion\":\"" + group + "/v1\",\"kind\":\"Gadget\",\"metadata\":{\"name\":\"g1\"}}");
    ours.put(widgets, Set.of("w1", "w2"));
    ours.put(gadgets, Set.of("g1"));

    List<Row> table = new ArrayList<>();
    // label selectors: the grammar, keys, values, and what the apiserver refuses
    for (String l :
        List.of(
            "",
            "app=web",
            "app==web",
            "app!=web",
            "app in (web,db)",
            "app in (web, db)",
            "app notin (web)",
            "app",
            "!app",
            "app=",
            "app!=",
            "app in ()",
            "app in (,web)",
            "app in (web,)",
            "app in (,,)",
            "app notin ()",
            "n>5",
            "n<10",
            "n>-5",
            "app>1",
            "tier,app=web",
            "tier,app=web,",
            " app = web , tier ",
            "\tapp\t=\tweb",
            "example.com/role",
            "example.com/role=x",
            "!example.com/role",
            "in=notin",
            "in in (notin)",
            "notin",
            "!in",
            "app in (web),tier notin (back)",
            "app=web,app=db",
            "a b",
            "app in (",
            "app in (a,",
            "app in (a b)",
            "app in web",
            "app in (a)(b)",
            "app notin",
            "!!a",
            "!a=b",
            "!",
            ",",
            ",app",
            "a,,b",
            "a=b=c",
            "a=(b)",
            "app!==web",
            "a===b",
            "a=!b",
            "a>x",
            "a<",
            "a>+5",
            "a>5x",
            "a in (b c)",
            "a=%%%",
            "a=b-",
            "a=-b",
            "-a=b",
            "a-=b",
            "_a",
            "/a",
            "a/",
            "a/b/c",
            "Ex.com/a",
            "ex_.com/a",
            "-ex.com/a",
            "a".repeat(64),
            "a".repeat(63),
            "a=" + "b".repeat(64),
            "x".repeat(254) + "/a",
            "a=\"b\"",
            "a\"b=c",
            "ä=b",
            "a=b;c",
            "app=web,\u0000",
            "(a)",
            ")",
            "a) ",
            "a<5,b>")) {
      table.add(new Row(configMaps, l, null));
    }
    // field selectors on a resource with only metadata's fields
    for (String f :
        List.of(
            "",
            "metadata.name=cm-a",
            "metadata.name==cm-a",
            "metadata.name!=cm-a",
            "metadata.name=",
            "metadata.name!=",
            "metadata.namespace=" + ns,
            "metadata.namespace!=" + ns,
            "metadata.namespace=" + ns + ",metadata.name!=cm-b",
            "metadata.name=cm-a,metadata.name=cm-b",
            "metadata.name=cm-a,metadata.name!=cm-a",
            ",",
            ",,metadata.name=cm-c,",
            "metadata.name",
            "metadata.name=a=b",
            "metadata.name=a\\=b",
            "metadata.name=a\\,b",
            "metadata.name=cm\\-a",
            "metadata.name=cm-a\\",
            "metadata.name=a\\\\",
            "metadata.name=a,b",
            " ",
            "metadata.name =cm-a",
            " metadata.name=cm-a",
            "metadata.name= cm-a",
            "=",
            "==,!=",
            "=,metadata.name=cm-b",
            "=cm-a",
            "!=x",
            "spec.nodeName=x",
            "data.x=y",
            "name=cm-a",
            "metadata.labels.app=web",
            "b=1=2,a",
            "z=1,a=2",
            "metadata.name=é")) {
      table.add(new Row(configMaps, null, f));
    }
    // both: the label selector is read first
    table.add(new Row(configMaps, "app=web", "metadata.name!=cm-a"));
    table.add(new Row(configMaps, "!!", "spec.x=1"));
    table.add(new Row(configMaps, "app", "spec.x=1"));
    // pods' fields
    for (String f :
        List.of(
            "spec.nodeName=" + node1,
            "spec.host=" + node1,
            "spec.nodeName=",
            "spec.nodeName!=",
            "spec.restartPolicy=Never",
            "spec.restartPolicy=Always",
            "spec.schedulerName=sel-scheduler",
            "spec.schedulerName=default-scheduler",
            "spec.serviceAccountName=default",
            "spec.serviceAccountName=",
            "status.phase=Running",
            "status.phase!=Pending",
            "status.phase=Pending",
            "status.podIP=10.9.8.7",
            "status.podIP=",
            "status.podIPs=",
            "status.podIPs!=",
            "status.podIPs=10.9.8.7",
            "status.nominatedNodeName=" + node2,
            "status.nominatedNodeName=",
            "metadata.namespace=" + ns,
            "metadata.name=p1,spec.host=" + node1,
            "spec.nope=x",
            "spec.containers.0.name=c",
            "status.hostIP=",
            "spec.host=x,spec.nope=y")) {
      table.add(new Row(pods, null, f));
    }
    table.add(new Row(pods, "app=web", "status.phase=Running"));
    for (String f :
        List.of(
            "spec.unschedulable=true",
            "spec.unschedulable=false",
            "spec.unschedulable!=true",
            "metadata.name=" + node1,
            "metadata.namespace=",
            "spec.taints=")) {
      table.add(new Row(nodes, null, f));
    }
    table.add(new Row(nodes, "zone in (a,b)", null));
    table.add(new Row(nodes, "zone=b", "spec.unschedulable=true"));
    for (String f :
        List.of(
            "status.phase=Active", "metadata.name=" + ns, "metadata.namespace=x", "name=" + ns)) {
      table.add(new Row(namespaces, null, f));
    }
    table.add(new Row(namespaces, "sel=" + sfx, "status.phase!=Terminating"));
    for (String f :
        List.of("type=Opaque", "type=kubernetes.io/tls", "type!=Opaque", "type=", "data.x=YQ==")) {
      table.add(new Row(secrets, null, f));
    }
    for (String f : List.of("status.replicas=0", "status.replicas!=0", "spec.replicas=0")) {
      table.add(new Row(rcs, null, f));
    }
    for (String f :
        List.of(
            "involvedObject.kind=Pod",
            "involvedObject.name=cm-a",
            "involvedObject.namespace=" + ns,
            "involvedObject.apiVersion=v1",
            "involvedObject.fieldPath=spec.containers{c}",
            "involvedObject.uid=",
            "involvedObject.resourceVersion=",
            "reason=Started",
            "type=Warning",
            "source=kubelet",
            "source=sel-ctl",
            "reportingComponent=sel-ctl",
            "reportingComponent=",
            "message=m",
            "regarding.kind=Pod")) {
      table.add(new Row(events, null, f));
    }
    for (String f :
        List.of(
            "regarding.kind=Pod",
            "regarding.name=cm-a",
            "regarding.fieldPath=spec.containers{c}",
            "reportingController=sel-ctl",
            "reason=Failed",
            "type=Normal",
            "source=kubelet",
            "involvedObject.kind=Pod",
            "note=m")) {
      table.add(new Row(newEvents, null, f));
    }
    for (String f : List.of("status.successful=0", "status.successful!=0", "spec.parallelism=0")) {
      table.add(new Row(jobs, null, f));
    }
    for (String f : List.of("status.successful=", "status.successful=0", "spec.suspend=true")) {
      table.add(new Row(cronJobs, null, f));
    }
    for (String f :
        List.of("status.replicas=0", "metadata.name=rs-a", "metadata.namespace=" + ns)) {
      table.add(new Row(replicaSets, null, f));
    }
    for (String f :
        List.of(
            "spec.signerName=example.com/sel",
            "spec.signerName!=example.com/sel",
            "metadata.name=" + csrName,
            "metadata.namespace=")) {
      table.add(new Row(csrs, null, f));
    }
    for (String f :
        List.of(
            "metadata.name=w1",
            "metadata.namespace=" + ns,
            "spec.size=1",
            "metadata.namespace=x")) {
      table.add(new Row(widgets, null, f));
    }
    table.add(new Row(widgets, "w in (w2)", null));
    for (String f : List.of("metadata.name=g1", "metadata.namespace=", "spec.x=y")) {
      table.add(new Row(gadgets, null, f));
    }

    // each resource's unfiltered list, once everything above exists
    Map<Resource, JsonNode> all = new HashMap<>();
    for (Resource r : ours.keySet()) {
      JsonNode list = send("GET", r.listPath(), null, null);
      Set<String> have = new HashSet<>();
      list.path("items").forEach(i -> have.add(i.path("metadata").path("name").asString()));
      assertThat(have).as(r.listPath()).containsAll(ours.get(r));
      all.put(r, list);
    }

    List<String> differences = new ArrayList<>();
    int refused = 0;
    int selecting = 0;
    for (Row row : table) {
      String expected = apiserver(row, ours.get(row.res()));
      String actual = kedge(row, all.get(row.res()), ours.get(row.res()));
      LOG.info("{}: apiserver {}", row, expected);
      if (expected.startsWith("400 ")) {
        refused++;
      } else if (!expected.equals("selects []")) {
        selecting++;
      }
      if (!expected.equals(actual)) {
        differences.add(row + "\n    apiserver: " + expected + "\n    kedge:     " + actual);
      }
    }
    LOG.info(
        "{} rows: {} refused by the apiserver, {} selecting something",
        table.size(),
        refused,
        selecting);
    assertThat(refused).as("rows the apiserver refuses").isGreaterThan(40);
    assertThat(selecting).as("rows that select something").isGreaterThan(60);
    assertThat(differences).as("rows where Kedge and the apiserver differ").isEmpty();

    // leave the cluster-scoped objects to no one
    send("DELETE", "/api/v1/nodes/" + node1, null, null);
    send("DELETE", "/api/v1/nodes/" + node2, null, null);
    send("DELETE", "/api/v1/namespaces/" + ns, null, null);
    send("DELETE", "/api/v1/namespaces/" + ns2, null, null);
    send("DELETE", csrs.listPath() + "/" + csrName, null, null);
    for (String crd : List.of("widgets", "gadgets")) {
      send(
          "DELETE",
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + crd + "." + group,
          null,
          null);
    }
  }
}
