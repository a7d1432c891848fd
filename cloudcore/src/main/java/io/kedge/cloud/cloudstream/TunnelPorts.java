package io.kedge.cloud.cloudstream;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.protocol.Json;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * KubeEdge's tunnel-port record: ConfigMap {@code kubeedge/tunnelport}, annotation {@code
 * tunnelportrecord.kubeedge.io} = {@code {"ipTunnelPort":{"<cloudcore IP>":10351},"port":{"10351":
 * true}}}. Each cloudcore takes a port of its own (the first free one above 10350) and points the
 * kubelet port of the nodes whose tunnel it holds at it; the DNAT rules for that port lead to that
 * cloudcore's stream server, so the apiserver's request for a node reaches the cloudcore holding
 * it.
 */
final class TunnelPorts {
  static final String NAMESPACE = "kubeedge";
  static final String NAME = "tunnelport";
  static final String ANNOTATION = "tunnelportrecord.kubeedge.io";
  static final int FIRST_PORT_ABOVE = 10350;

  private TunnelPorts() {}

  /** The record as map of cloudcore IP to port. */
  static Map<String, Integer> read(KubernetesClient client) {
    ConfigMap cm = client.configMaps().inNamespace(NAMESPACE).withName(NAME).get();
    return cm == null ? Map.of() : parse(annotation(cm));
  }

  static Map<String, Integer> parse(String record) {
    Map<String, Integer> out = new TreeMap<>();
    if (record == null || record.isBlank()) {
      return out;
    }
    JsonNode j = Json.parse(record);
    for (Map.Entry<String, JsonNode> e : j.path("ipTunnelPort").properties()) {
      out.put(e.getKey(), e.getValue().asInt());
    }
    return out;
  }

  static String format(Map<String, Integer> ipPorts) {
    ObjectNode o = Json.object();
    ObjectNode ips = o.putObject("ipTunnelPort");
    ObjectNode ports = o.putObject("port");
    new TreeMap<>(ipPorts)
        .forEach(
            (ip, port) -> {
              ips.put(ip, port);
              ports.put(Integer.toString(port), true);
            });
    return Json.string(o);
  }

  /**
   * This cloudcore's port: the one recorded for {@code ip}, else the first free one above 10350,
   * recorded. Concurrent cloudcores are kept apart by the ConfigMap's resourceVersion.
   */
  static int negotiate(KubernetesClient client, String ip) {
    for (int attempt = 0; ; attempt++) {
      ConfigMap cm = client.configMaps().inNamespace(NAMESPACE).withName(NAME).get();
      Map<String, Integer> record =
          new LinkedHashMap<>(cm == null ? Map.of() : parse(annotation(cm)));
      Integer mine = record.get(ip);
      if (mine != null) {
        return mine;
      }
      int port = FIRST_PORT_ABOVE + 1;
      while (record.containsValue(port)) {
        port++;
      }
      record.put(ip, port);
      try {
        if (cm == null) {
          client
              .configMaps()
              .inNamespace(NAMESPACE)
              .resource(
                  new ConfigMapBuilder()
                      .withNewMetadata()
                      .withName(NAME)
                      .withNamespace(NAMESPACE)
                      .withAnnotations(Map.of(ANNOTATION, format(record)))
                      .endMetadata()
                      .build())
              .create();
        } else {
          Map<String, String> ann =
              new HashMap<>(
                  cm.getMetadata().getAnnotations() == null
                      ? Map.of()
                      : cm.getMetadata().getAnnotations());
          ann.put(ANNOTATION, format(record));
          cm.getMetadata().setAnnotations(ann);
          client.configMaps().inNamespace(NAMESPACE).resource(cm).update();
        }
        return port;
      } catch (KubernetesClientException e) {
        if ((e.getCode() != 409) || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  private static String annotation(ConfigMap cm) {
    Map<String, String> a = cm.getMetadata().getAnnotations();
    return a == null ? null : a.get(ANNOTATION);
  }
}
