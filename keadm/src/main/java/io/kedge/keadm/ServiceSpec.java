package io.kedge.keadm;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A program keadm keeps running: cloudcore or edgecore of one install.
 *
 * @param name the service name ({@code cloudcore}, {@code edgecore}); the systemd unit is {@code
 *     NAME.service}
 * @param command the program and its arguments (runs in the foreground)
 * @param env extra environment
 * @param layout the install it belongs to (pid and log files live there)
 */
public record ServiceSpec(
    String name,
    String description,
    List<String> command,
    Map<String, String> env,
    InstallLayout layout) {

  public ServiceSpec {
    command = List.copyOf(command);
    env = Map.copyOf(env);
  }

  public Path pidFile() {
    return layout.pidFile(name);
  }

  public Path log() {
    return layout.log(name);
  }

  /**
   * cloudcore reading its configuration from ConfigMap kubeedge/cloudcore, with this install's own
   * settings on top when it was added to a cluster that had a cloudcore ({@link
   * LocalCloudSettings}).
   */
  public static ServiceSpec cloudcore(KeadmEnvironment env, InstallLayout layout) {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                env.bin("cloudcore").toString(),
                "--kubeconfig",
                layout.cloudcoreKubeconfig().toString(),
                "--config-from-configmap",
                InitCommand.NAMESPACE + "/" + InitCommand.CONFIGMAP));
    for (String s : LocalCloudSettings.read(layout)) {
      command.add("--set=" + s);
    }
    return new ServiceSpec(
        "cloudcore",
        "Kedge cloudcore (KubeEdge-compatible cloud side)",
        command,
        javaOpts(env),
        layout);
  }

  /** edgecore with the install's edgecore.yaml. */
  public static ServiceSpec edgecore(KeadmEnvironment env, InstallLayout layout) {
    return new ServiceSpec(
        "edgecore",
        "Kedge edgecore (KubeEdge-compatible edge node)",
        List.of(env.bin("edgecore").toString(), "--config", layout.edgecoreConfig().toString()),
        javaOpts(env),
        layout);
  }

  private static Map<String, String> javaOpts(KeadmEnvironment env) {
    String opts = env.env().get("KEDGE_JAVA_OPTS");
    return opts == null || opts.isBlank() ? Map.of() : Map.of("KEDGE_JAVA_OPTS", opts);
  }
}
