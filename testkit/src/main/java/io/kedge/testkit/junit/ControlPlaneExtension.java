package io.kedge.testkit.junit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ClusterPki;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneException;
import io.kedge.controlplane.ControlPlaneOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands tests a real local control plane: one per test JVM, shared by every test class, stopped
 * when the JVM's tests are done. Test methods and constructors may declare parameters of type
 * {@link ControlPlane}, {@link KubernetesClient} (admin), or {@link ClusterPki}.
 *
 * <p>With {@code KEDGE_CONTROL_PLANE_DIR} set, tests use the plane already running there (started
 * with {@code bin/control-plane up --dir ...}) and leave it running: handy while developing.
 */
public final class ControlPlaneExtension implements ParameterResolver {
  private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneExtension.class);
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(ControlPlaneExtension.class);

  /**
   * System property: the controller-manager's {@code --cluster-signing-duration} for the plane this
   * JVM starts, as an ISO-8601 duration ({@code PT8M}); default one year. The v1.20 signer
   * backdates by 5 minutes and counts the duration from there: shorter than that issues expired
   * certificates.
   */
  public static final String SIGNING_DURATION_PROPERTY = "kedge.clusterSigningDuration";

  /** The shared control plane, started on first use. */
  public static ControlPlane controlPlane(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NS)
        .getOrComputeIfAbsent(Shared.class, k -> Shared.start(), Shared.class)
        .plane;
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    Class<?> t = p.getParameter().getType();
    return t == ControlPlane.class || t == KubernetesClient.class || t == ClusterPki.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    ControlPlane cp = controlPlane(e);
    Class<?> t = p.getParameter().getType();
    if (t == KubernetesClient.class) {
      return cp.adminClient();
    }
    if (t == ClusterPki.class) {
      return cp.pki();
    }
    return cp;
  }

  /** Holder closed by JUnit at the end of the run (AutoCloseable values in the root store). */
  static final class Shared implements AutoCloseable {
    final ControlPlane plane;
    final boolean owned;

    private Shared(ControlPlane plane, boolean owned) {
      this.plane = plane;
      this.owned = owned;
    }

    static Shared start() {
      String external = System.getenv("KEDGE_CONTROL_PLANE_DIR");
      if (external != null && !external.isBlank()) {
        ControlPlane cp =
            ControlPlane.attach(Path.of(external))
                .orElseThrow(
                    () ->
                        new ControlPlaneException(
                            "KEDGE_CONTROL_PLANE_DIR="
                                + external
                                + " but no control plane runs there"));
        LOG.info("using the running control plane in {}", external);
        return new Shared(cp, false);
      }
      Path dir;
      try {
        dir = Files.createTempDirectory("kedge-cp-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      ControlPlaneOptions opts = ControlPlaneOptions.defaults(dir);
      String signing = System.getProperty(SIGNING_DURATION_PROPERTY, "");
      if (!signing.isBlank()) {
        // a JVM of its own for tests of certificate rotation (a failsafe execution sets it)
        opts = opts.withClusterSigningDuration(java.time.Duration.parse(signing.strip()));
        LOG.info("control plane with --cluster-signing-duration {}", signing.strip());
      }
      ControlPlane cp = ControlPlane.start(opts);
      Shared s = new Shared(cp, true);
      // Also on abnormal JVM exit: never leave etcd or apiservers behind.
      Runtime.getRuntime().addShutdownHook(new Thread(s::close, "control-plane-stop"));
      return s;
    }

    @Override
    public synchronized void close() {
      if (owned && plane.componentAlive("kube-apiserver")) {
        plane.close();
      }
    }
  }
}
