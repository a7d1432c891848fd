package io.kedge.keadm;

/**
 * Runs cloudcore and edgecore as services: systemd units where systemd manages the machine (and the
 * install uses the system paths), a supervised background process otherwise.
 */
public interface ServiceManager {

  /** Installs (if needed) and starts the service; nothing happens when it already runs. */
  void start(ServiceSpec spec);

  /** Stops the service; returns whether it was running. */
  boolean stop(ServiceSpec spec);

  boolean running(ServiceSpec spec);

  /** Stops it and removes what {@link #start} installed (unit file, pid files). */
  void uninstall(ServiceSpec spec);

  /** How the user looks at its output. */
  String logHint(ServiceSpec spec);

  /** e.g. "systemd unit cloudcore.service" or "supervised process". */
  String describe(ServiceSpec spec);

  /** The manager for {@code layout} in {@code env}. */
  static ServiceManager choose(KeadmEnvironment env, InstallLayout layout) {
    String forced = env.env().getOrDefault("KEADM_SERVICE_MANAGER", "");
    if ("systemd".equals(forced) || (forced.isEmpty() && env.systemd() && layout.systemRoot())) {
      return new SystemdServices(env);
    }
    return new SupervisedServices(env);
  }
}
