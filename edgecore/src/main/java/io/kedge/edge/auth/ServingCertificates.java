package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.JdkTlsContext;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.pki.CertificateRequests;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MetaServer's serving certificate, issued by the cluster: an ECDSA P-256 key and a CSR {@code
 * metaserver-csr-<node>} (signer {@code kubernetes.io/kubelet-serving}, {@code
 * CN=system:node:<node>, O=system:nodes}, the MetaServer IPs as SANs) created through the cloud as
 * the node and polled until issued. The certificate is kept in {@code
 * <pkiDir>/metaserver-current.pem} (chain, then key), so an edge that restarts without the cloud
 * serves with it at once. A new one is requested at a random point between 70 % and 90 % of the
 * lifetime and swapped in for new connections; open connections keep theirs.
 *
 * <p>All work runs on {@code timer}; nothing here blocks a caller.
 */
public final class ServingCertificates implements CloudLinkListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServingCertificates.class);

  public static final String FILE = "metaserver-current.pem";
  public static final String SIGNER = "kubernetes.io/kubelet-serving";

  /** A key with its certificate chain (leaf first). */
  public record Credentials(PrivateKey key, List<X509Certificate> chain) {
    public X509Certificate leaf() {
      return chain.get(0);
    }
  }

  private final ServingCertificateSettings settings;
  private final CloudLink link;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final CompletableFuture<Credentials> first = new CompletableFuture<>();

  private volatile Credentials current;
  private volatile SslContext sslContext;
  private volatile String problem = "";

  // timer thread only
  private boolean inFlight;
  private boolean wanted;
  private int failures;
  private Instant pendingSince;
  private boolean warned;
  private ScheduledFuture<?> scheduled;
  private volatile boolean closed;

  public ServingCertificates(
      ServingCertificateSettings settings,
      CloudLink link,
      ScheduledExecutorService timer,
      Clock clock) {
    this.settings = settings;
    this.link = link;
    this.timer = timer;
    this.clock = clock;
  }

  /** Loads the kept certificate (usable at once) and starts obtaining or renewing one. */
  public void start() {
    Optional<Credentials> kept = load();
    kept.ifPresent(this::use);
    link.addListener(this);
    timer.execute(
        () -> {
          if (kept.isPresent()) {
            LOG.info(
                "MetaServer serving certificate from {} (valid until {})",
                file(),
                kept.get().leaf().getNotAfter().toInstant());
            scheduleRenewal(kept.get());
          } else {
            wanted = true;
            request();
          }
        });
  }

  /** Completes once a certificate is available (at once when one was kept). */
  public CompletableFuture<Credentials> firstCertificate() {
    return first;
  }

  public Credentials current() {
    return current;
  }

  /** The TLS context for a new connection; null until a certificate exists. */
  public SslContext sslContext() {
    return sslContext;
  }

  /** Why MetaServer cannot serve HTTPS, or empty (for {@code /readyz} and the log). */
  public String problem() {
    return problem;
  }

  public Path file() {
    return settings.pkiDir().resolve(FILE);
  }

  @Override
  public void connected() {
    timer.execute(
        () -> {
          if (wanted && !inFlight) {
            request();
          }
        });
  }

  // ------------------------------------------------------------------ obtaining

  private void request() {
    if (closed || inFlight) {
      return;
    }
    if (!link.isConnected()) {
      if (current == null) {
        problem =
            "no serving certificate yet: waiting for the cloud to request " + settings.csrName();
      }
      return; // connected() resumes
    }
    inFlight = true;
    KeyPair key = KeyPairs.ecP256();
    ObjectNode csr = csrObject(key);
    LOG.info(
        "requesting MetaServer serving certificate {} for IPs {}",
        settings.csrName(),
        settings.ips());
    ask(Operations.INSERT, csr)
        .whenCompleteAsync(
            (reply, err) -> {
              if (err != null) {
                retryLater("creating " + settings.csrName() + " failed: " + rootMessage(err));
                return;
              }
              JsonNode obj = reply.path("Object");
              pendingSince = clock.instant();
              warned = false;
              poll(key, obj.path("metadata").path("uid").asString(""));
            },
            timer);
  }

  private void poll(KeyPair key, String uid) {
    if (closed) {
      return;
    }
    ask(Operations.QUERY, null)
        .whenCompleteAsync(
            (reply, err) -> {
              if (err != null) {
                if (rootCause(err) instanceof NotConnectedException) {
                  inFlight = false;
                  problem =
                      current == null
                          ? "no serving certificate yet: the cloud is not reachable"
                          : "";
                  return; // connected() starts over
                }
                retryLater("polling " + settings.csrName() + " failed: " + rootMessage(err));
                return;
              }
              JsonNode obj = reply.path("Object");
              String gotUid = obj.path("metadata").path("uid").asString("");
              if (!uid.isEmpty() && !gotUid.isEmpty() && !uid.equals(gotUid)) {
                retryLater(settings.csrName() + " was replaced by another request");
                return;
              }
              for (JsonNode c : obj.path("status").path("conditions")) {
                String type = c.path("type").asString("");
                if (type.equals("Denied") || type.equals("Failed")) {
                  retryLater(
                      settings.csrName()
                          + " was "
                          + type.toLowerCase()
                          + ": "
                          + c.path("reason").asString("")
                          + " "
                          + c.path("message").asString(""));
                  return;
                }
              }
              String cert = obj.path("status").path("certificate").asString("");
              if (!cert.isEmpty()) {
                issued(key, cert);
                return;
              }
              Duration waited = Duration.between(pendingSince, clock.instant());
              if (!warned && waited.compareTo(settings.warnAfter()) >= 0) {
                warned = true;
                String msg =
                    "CSR "
                        + settings.csrName()
                        + " is not approved after "
                        + waited.toSeconds()
                        + " s: cloudcore approves it only with featureGates.requireAuthorization: true"
                        + " (its CSR approver), or approve it with kubectl certificate approve "
                        + settings.csrName();
                LOG.warn(msg);
                if (current == null) {
                  problem = msg;
                }
              }
              timer.schedule(
                  () -> poll(key, uid), settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
            },
            timer);
  }

  private void issued(KeyPair key, String certBase64) {
    List<X509Certificate> chain;
    try {
      chain =
          Pem.certificates(
              new String(Base64.getDecoder().decode(certBase64), StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      retryLater(settings.csrName() + " carries no readable certificate");
      return;
    }
    if (chain.isEmpty() || !chain.get(0).getPublicKey().equals(key.getPublic())) {
      retryLater(settings.csrName() + " was issued for another key");
      return;
    }
    Instant notAfter = chain.get(0).getNotAfter().toInstant();
    if (!notAfter.isAfter(clock.instant())) {
      // kube-controller-manager backdates notBefore by 5 minutes and adds its signing duration to
      // that: a duration under 5 minutes yields certificates that are expired when issued.
      retryLater(
          settings.csrName()
              + " was issued already expired (valid "
              + chain.get(0).getNotBefore().toInstant()
              + " .. "
              + notAfter
              + "): the signer's lifetime (kube-controller-manager --cluster-signing-duration)"
              + " must exceed its 5-minute backdating");
      return;
    }
    Credentials c = new Credentials(key.getPrivate(), chain);
    List<Object> pem = new ArrayList<>(chain);
    pem.add(key.getPrivate());
    Pem.write(file(), Pem.encode(pem.toArray()), true);
    inFlight = false;
    wanted = false;
    failures = 0;
    use(c);
    LOG.info(
        "MetaServer serving certificate issued, valid {} .. {}, kept in {}",
        c.leaf().getNotBefore().toInstant(),
        c.leaf().getNotAfter().toInstant(),
        file());
    scheduleRenewal(c);
  }

  private void retryLater(String why) {
    inFlight = false;
    wanted = true;
    failures++;
    long delay =
        Math.min(
            settings.retryMax().toMillis(),
            settings.retryMin().toMillis() << Math.min(failures - 1, 16));
    LOG.warn("{}; trying again in {} s", why, delay / 1000);
    if (current == null) {
      problem = "no serving certificate yet: " + why;
    }
    schedule(this::request, delay);
  }

  private void scheduleRenewal(Credentials c) {
    Instant nb = c.leaf().getNotBefore().toInstant();
    Instant na = c.leaf().getNotAfter().toInstant();
    long life = Duration.between(nb, na).toMillis();
    double share = 0.7 + 0.2 * ThreadLocalRandom.current().nextDouble();
    Instant at = nb.plusMillis((long) (life * share));
    long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
    LOG.info("MetaServer serving certificate renewal at {}", at);
    schedule(
        () -> {
          wanted = true;
          request();
        },
        delay);
  }

  private void schedule(Runnable r, long delayMillis) {
    if (closed) {
      return;
    }
    if (scheduled != null) {
      scheduled.cancel(false);
    }
    scheduled = timer.schedule(r, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void use(Credentials c) {
    try {
      SslContext ctx = JdkTlsContext.server(c.key(), c.chain());
      current = c;
      sslContext = ctx;
      problem = "";
      first.complete(c);
    } catch (IllegalStateException e) {
      LOG.error("cannot use the serving certificate: {}", e.getMessage());
    }
  }

  // ------------------------------------------------------------------ wire

  private ObjectNode csrObject(KeyPair key) {
    String pem =
        CertificateRequests.pem(
            key,
            "system:node:" + settings.node(),
            List.of("system:nodes"),
            settings.ips(),
            List.of());
    ObjectNode o = Json.object();
    o.put("apiVersion", "certificates.k8s.io/v1");
    o.put("kind", "CertificateSigningRequest");
    o.putObject("metadata").put("name", settings.csrName());
    ObjectNode spec = o.putObject("spec");
    spec.put(
        "request", Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII)));
    spec.put("signerName", SIGNER);
    spec.putArray("usages").add("digital signature").add("key encipherment").add("server auth");
    return o;
  }

  /** Sends an insert/query and completes with the reply's {@code {"Object", "Err"}} body. */
  private CompletableFuture<JsonNode> ask(String op, JsonNode body) {
    Message m =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                op,
                ResourcePath.format("default", ResourcePath.CSR, settings.csrName())),
            body);
    CompletableFuture<Message> reply;
    try {
      reply = link.request(m, settings.requestTimeout());
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(e);
    }
    return reply.thenApply(
        r -> {
          JsonNode c = r.content();
          if (c.isString()) {
            c = Json.parse(c.asString());
          }
          ObjectNode err = KubeStatus.fromErrStatus(c.path("Err"));
          if (err != null) {
            throw new IllegalStateException(
                "the cloud answered "
                    + KubeStatus.code(err)
                    + ": "
                    + err.path("message").asString(""));
          }
          if (!c.path("Object").isObject()) {
            throw new IllegalStateException("the cloud answered without a CSR");
          }
          return c;
        });
  }

  private Optional<Credentials> load() {
    Path f = file();
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    try {
      String pem = Pem.read(f);
      String end = "-----END CERTIFICATE-----";
      int certsEnd = pem.lastIndexOf(end);
      if (certsEnd < 0) {
        return Optional.empty();
      }
      List<X509Certificate> chain = Pem.certificates(pem.substring(0, certsEnd + end.length()));
      PrivateKey key = Pem.privateKey(pem.substring(certsEnd + end.length()));
      if (chain.isEmpty()) {
        return Optional.empty();
      }
      if (chain.get(0).getNotAfter().toInstant().isBefore(clock.instant())) {
        LOG.warn(
            "the kept serving certificate {} expired at {}",
            f,
            chain.get(0).getNotAfter().toInstant());
        return Optional.empty();
      }
      return Optional.of(new Credentials(key, chain));
    } catch (RuntimeException e) {
      LOG.warn("cannot read the kept serving certificate {}: {}", f, e.getMessage());
      return Optional.empty();
    }
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null
        && (t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)) {
      t = t.getCause();
    }
    return t;
  }

  private static String rootMessage(Throwable t) {
    Throwable c = rootCause(t);
    return c.getMessage() == null ? c.toString() : c.getMessage();
  }

  @Override
  public void close() {
    closed = true;
    if (scheduled != null) {
      scheduled.cancel(false);
    }
  }
}
