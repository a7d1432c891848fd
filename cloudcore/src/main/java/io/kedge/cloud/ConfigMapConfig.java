package io.kedge.cloud;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cloudcore's configuration from ConfigMap {@code kubeedge/cloudcore} (key {@code cloudcore.yaml}),
 * where {@code keadm init} puts it, read with cloudcore's own credentials ({@code --kubeconfig}).
 * The ConfigMap says {@code kubeAPIConfig.kubeConfig: ""} (in-cluster, as KubeEdge's chart writes
 * it); a cloudcore outside the cluster uses the kubeconfig it was given instead. After {@code
 * kubectl edit cm cloudcore -n kubeedge} the change is reported once, so that cloudcore can restart
 * with it.
 */
public final class ConfigMapConfig implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigMapConfig.class);
  public static final String KEY = "cloudcore.yaml";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final Path kubeconfig;
  private volatile SharedIndexInformer<ConfigMap> informer;
  private volatile String loadedText;
  private volatile String loadedVersion;

  private ConfigMapConfig(KubernetesClient client, String namespace, String name, Path kubeconfig) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.kubeconfig = kubeconfig;
  }

  /**
   * @param reference {@code NAMESPACE/NAME}
   */
  public static ConfigMapConfig open(Path kubeconfig, String reference) {
    String[] parts = reference.split("/", -1);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new ConfigException(
          "--config-from-configmap: expected NAMESPACE/NAME, got '" + reference + "'");
    }
    Config cfg;
    try {
      cfg =
          Config.fromKubeconfig(
              null, Files.readString(kubeconfig), kubeconfig.toAbsolutePath().toString());
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("cannot read kubeconfig " + kubeconfig + ": " + e.getMessage(), e);
    }
    return new ConfigMapConfig(
        new KubernetesClientBuilder().withConfig(cfg).build(),
        parts[0],
        parts[1],
        kubeconfig.toAbsolutePath());
  }

  public String reference() {
    return namespace + "/" + name;
  }

  /** Reads the ConfigMap now; {@code sets} apply on top, as with {@code --config FILE}. */
  public ConfigLoader.Loaded<CloudCoreConfig> load(List<String> sets) {
    ConfigMap cm;
    try {
      cm = client.configMaps().inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      throw new ConfigException("cannot read ConfigMap " + reference() + ": " + e.getMessage(), e);
    }
    if (cm == null) {
      throw new ConfigException(
          "ConfigMap " + reference() + " does not exist (keadm init creates it)");
    }
    String text = cm.getData() == null ? null : cm.getData().get(KEY);
    if (text == null) {
      throw new ConfigException("ConfigMap " + reference() + " has no key " + KEY);
    }
    List<String> all = new ArrayList<>();
    all.add("kubeAPIConfig.kubeConfig=" + kubeconfig);
    all.addAll(sets);
    ConfigLoader.Loaded<CloudCoreConfig> loaded =
        CloudCoreConfig.loadText(text, "ConfigMap " + reference() + " key " + KEY, all);
    loadedText = text;
    loadedVersion = cm.getMetadata().getResourceVersion();
    return loaded;
  }

  /**
   * Calls {@code changed} once, with a reason, when the configuration differs from what {@link
   * #load} read (an edit of {@code cloudcore.yaml}, or the ConfigMap's removal). Label or
   * annotation edits do not count.
   */
  public void onChange(Consumer<String> changed) {
    AtomicBoolean fired = new AtomicBoolean();
    Consumer<String> once =
        why -> {
          if (fired.compareAndSet(false, true)) {
            changed.accept(why);
          }
        };
    informer =
        client
            .configMaps()
            .inNamespace(namespace)
            .withName(name)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(ConfigMap cm) {
                    check(cm, once);
                  }

                  @Override
                  public void onUpdate(ConfigMap old, ConfigMap cm) {
                    check(cm, once);
                  }

                  @Override
                  public void onDelete(ConfigMap cm, boolean unknown) {
                    once.accept("ConfigMap " + reference() + " was deleted");
                  }
                });
  }

  private void check(ConfigMap cm, Consumer<String> changed) {
    String text = cm.getData() == null ? null : cm.getData().get(KEY);
    if (!Objects.equals(text, loadedText)) {
      String why =
          "ConfigMap "
              + reference()
              + " changed (resourceVersion "
              + loadedVersion
              + " -> "
              + cm.getMetadata().getResourceVersion()
              + ")";
      LOG.info("{}", why);
      changed.accept(why);
    }
  }

  @Override
  public void close() {
    SharedIndexInformer<ConfigMap> i = informer;
    if (i != null) {
      i.close();
    }
    client.close();
  }
}
