package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.JdkTlsContext;
import io.kedge.edge.metaserver.HostPort;
import io.kedge.edge.store.ObjectStore;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MetaServer's security with {@code featureGates.requireAuthorization}, assembled from {@code
 * edgecore.yaml}: the cluster-issued serving certificate, the Kubernetes CA, the issuer keys, token
 * authentication and RBAC over the synced ServiceAccountAccess objects, and the {@code dummyServer}
 * address. Until the cluster has issued a certificate MetaServer serves with an untrusted
 * placeholder, so that {@code /readyz} can say why (clients that verify the CA refuse it, as they
 * should).
 */
public final class EdgeAuth implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeAuth.class);

  /**
   * Node annotation with the IPs this node's MetaServer serves on: the cloud's CSR approver accepts
   * exactly these as SANs (without it, KubeEdge's defaults 127.0.0.1 and 169.254.30.10).
   */
  public static final String IPS_ANNOTATION = "metaserver.kedge.io/ips";

  /** The hosts of {@code server} and {@code dummyServer}, without repetition. */
  public static List<String> metaServerIps(EdgeCoreConfig.MetaServerConfig ms) {
    LinkedHashSet<String> ips = new LinkedHashSet<>();
    ips.add(sanFor(HostPort.parse(ms.server(), "127.0.0.1", 10550).host()));
    ips.add(sanFor(HostPort.parse(ms.dummyServer(), "169.254.30.10", 10550).host()));
    return new ArrayList<>(ips);
  }

  /**
   * A listen address names what clients dial, except the unspecified one ({@code 0.0.0.0}, {@code
   * ::}): no client dials that, and the cloud denies a SAN it cannot place. Listening everywhere
   * includes loopback, which is what local clients reach.
   */
  private static String sanFor(String host) {
    return switch (host) {
      case "0.0.0.0" -> "127.0.0.1";
      case "::", "[::]", "0:0:0:0:0:0:0:0" -> "::1";
      default -> host;
    };
  }

  /** A failed readiness check: a short name and what to do. */
  public record Problem(String check, String message) {}

  private final ClusterCa ca;
  private final IssuerKeyCache keys;
  private final ServingCertificates certificates;
  private final SyncedAccessPolicies policies;
  private final TokenAuthenticator authenticator;
  private final Authorizer authorizer;
  private final String dummyHost;
  private final int dummyPort;
  private final List<String> ips;
  private final String node;
  private SslContext placeholder; // made on first use: a kept certificate needs none
  private volatile DummyInterface.Outcome dummy;

  /**
   * @param issuedHere whether a token is one this node obtained for a pod it runs (accepted before
   *     the issuer keys are known)
   */
  public EdgeAuth(
      EdgeCoreConfig config,
      String node,
      CloudLink link,
      ObjectStore store,
      Predicate<String> issuedHere,
      ScheduledExecutorService timer,
      Clock clock) {
    EdgeCoreConfig.MetaServerConfig ms = config.modules().metaManager().metaServer();
    Path pki =
        Path.of(
            ms.pkiDir() == null || ms.pkiDir().isBlank()
                ? "/etc/kubeedge/pki/metaserver"
                : ms.pkiDir());
    Duration timeout =
        Duration.ofSeconds(Math.max(1, config.modules().metaManager().remoteQueryTimeout()));
    HostPort dummyAddr = HostPort.parse(ms.dummyServer(), "169.254.30.10", 10550);
    this.dummyHost = dummyAddr.host();
    this.dummyPort = dummyAddr.port();
    List<String> ips = metaServerIps(ms);
    this.ca = new ClusterCa(link, pki, timeout);
    this.keys =
        new IssuerKeyCache(
            link, pki, ms.serviceAccountKeyFiles(), timeout, Duration.ofHours(1), timer, clock);
    this.certificates =
        new ServingCertificates(
            ServingCertificateSettings.defaults(node, ips, pki), link, timer, clock);
    this.policies = new SyncedAccessPolicies(store);
    List<String> issuers =
        ms.serviceAccountIssuers() == null ? List.of() : ms.serviceAccountIssuers();
    if (issuers.isEmpty()) {
      LOG.warn(
          "metaServer.serviceAccountIssuers is empty: no pod token can be accepted (KubeEdge's"
              + " default is https://kubernetes.default.svc.cluster.local)");
    }
    this.authenticator =
        new TokenAuthenticator(
            new TokenVerifier(issuers, ms.apiAudiences(), keys),
            keys,
            new StoreBoundObjects(store, policies, node),
            issuedHere);
    this.authorizer = Authorizer.union(new DiscoveryPaths(), new RbacAuthorizer(policies));
    this.ips = ips;
    this.node = node;
  }

  /** Starts obtaining the certificate and sets up the dummy address. */
  public void start() {
    startCertificates();
    setUpDummyAddress();
  }

  /**
   * Loads the kept serving certificate (MetaServer serves with it from its first connection) and
   * starts obtaining or renewing it.
   */
  public void startCertificates() {
    certificates.start();
  }

  /**
   * Puts the dummy address on its interface ({@code ip} commands: processes of their own), for
   * {@link #dummyReady()}; done once MetaServer already listens on its main address.
   */
  public void setUpDummyAddress() {
    dummy = new DummyInterface().ensure(dummyHost);
    if (!dummy.ok()) {
      LOG.warn("{}", dummy.how());
    }
  }

  public Authenticator authenticator() {
    return authenticator;
  }

  public Authorizer authorizer() {
    return authorizer;
  }

  /** The context for a new MetaServer connection: the issued certificate, or the placeholder. */
  public SslContext sslContext() {
    SslContext c = certificates.sslContext();
    return c != null ? c : placeholder();
  }

  private synchronized SslContext placeholder() {
    if (placeholder == null) {
      placeholder = placeholder(node, ips);
    }
    return placeholder;
  }

  public ServingCertificates certificates() {
    return certificates;
  }

  public ClusterCa clusterCa() {
    return ca;
  }

  public IssuerKeyCache issuerKeys() {
    return keys;
  }

  public String dummyHost() {
    return dummyHost;
  }

  public int dummyPort() {
    return dummyPort;
  }

  /** Whether MetaServer should also listen on the dummy address. */
  public boolean dummyReady() {
    return dummy != null && dummy.ok();
  }

  public List<Problem> problems() {
    List<Problem> out = new ArrayList<>();
    String p = certificates.problem();
    if (!p.isEmpty() || certificates.current() == null) {
      out.add(
          new Problem(
              "kedge-serving-certificate",
              p.isEmpty() ? "no serving certificate issued by the cluster yet" : p));
    }
    DummyInterface.Outcome d = dummy;
    if (d != null && !d.ok()) {
      out.add(new Problem("kedge-dummy-address", d.how()));
    }
    return out;
  }

  private static SslContext placeholder(String node, List<String> ips) {
    CertificateAuthority self =
        CertificateAuthority.create(
            "kedge-metaserver-placeholder", KeyPairs.ecP256(), Duration.ofDays(3650));
    var key = KeyPairs.ecP256();
    var cert =
        self.issue(
            CertSpec.server("system:node:" + node, ips, List.of(), Duration.ofDays(3650)),
            key.getPublic());
    return JdkTlsContext.server(key.getPrivate(), List.of(cert, self.certificate()));
  }

  @Override
  public void close() {
    certificates.close();
  }
}
