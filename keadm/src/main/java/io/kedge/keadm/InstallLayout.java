package io.kedge.keadm;

import java.nio.file.Path;

/**
 * Where an install keeps its files. With the default root {@code /} these are KubeEdge's paths
 * ({@code /etc/kubeedge}, {@code /var/lib/kubeedge}, {@code /var/log/kubeedge}); with {@code
 * --root-dir DIR} everything moves under DIR, so several edge nodes (or tests) can share a machine.
 */
public record InstallLayout(Path root) {

  public static final Path SYSTEM_ROOT = Path.of("/");

  public InstallLayout {
    root = root == null ? SYSTEM_ROOT : root.toAbsolutePath().normalize();
  }

  public static InstallLayout of(Path rootDir) {
    return new InstallLayout(rootDir);
  }

  public boolean systemRoot() {
    return root.equals(SYSTEM_ROOT);
  }

  /**
   * The path under this root for an absolute path as KubeEdge writes it ({@code /etc/kubeedge/...}
   * becomes {@code DIR/etc/kubeedge/...}).
   */
  public Path rooted(String absolute) {
    Path p = Path.of(absolute);
    if (!p.isAbsolute()) {
      return p;
    }
    return systemRoot() ? p : root.resolve(SYSTEM_ROOT.relativize(p));
  }

  public Path etc() {
    return rooted("/etc/kubeedge");
  }

  public Path configDir() {
    return etc().resolve("config");
  }

  public Path edgecoreConfig() {
    return configDir().resolve("edgecore.yaml");
  }

  /** cloudcore's credentials: a kubeconfig with the token of ServiceAccount kubeedge/cloudcore. */
  public Path cloudcoreKubeconfig() {
    return configDir().resolve("cloudcore.kubeconfig");
  }

  public Path varLib() {
    return rooted("/var/lib/kubeedge");
  }

  /** What {@code keadm init} recorded about the cloud install (for reset, restart, re-init). */
  public Path cloudInstallRecord() {
    return varLib().resolve("cloudcore").resolve("install.properties");
  }

  public Path logDir() {
    return rooted("/var/log/kubeedge");
  }

  public Path runDir() {
    return rooted("/var/run/kubeedge");
  }

  public Path log(String service) {
    return logDir().resolve(service + ".log");
  }

  public Path pidFile(String service) {
    return runDir().resolve(service + ".pid");
  }

  /** The {@code --root-dir} argument that reproduces this layout, or empty for the system root. */
  public String rootDirArgument() {
    return systemRoot() ? "" : " --root-dir " + root;
  }
}
