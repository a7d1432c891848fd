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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
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

  /** The key of a request whose certificate is not issued yet (public, then private key). */
  public static final String PENDING_FILE = "metaserver-pending.pem";

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
  private volatile String csrName;
  private String lastFailure = ""; // timer thread only
  private volatile String csrState = "not requested yet";
  private ScheduledFuture<?> scheduled;
  private volatile boolean closed;
  private ScheduledFuture<?> reporter;

  public ServingCertificates(
      ServingCertificateSettings settings,
      CloudLink link,
      ScheduledExecutorService timer,
      Clock clock) {
    this.settings = settings;
    this.link = link;
    this.timer = timer;
    this.clock = clock;
    this.csrName = settings.csrName();
  }

  /** Loads the kept certificate (usable at once) and starts obtaining or renewing one. */
  public void start() {
    Optional<Credentials> kept = load();
    kept.ifPresent(this::use);
    kept.ifPresent(this::forgetPendingKeyOf);
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
    long every = Math.max(1, settings.reportEvery().toMillis());
    reporter = timer.scheduleWithFixedDelay(this::report, every, every, TimeUnit.MILLISECONDS);
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

  /** The CSR the edge waits for and its state, e.g. {@code metaserver-csr-n1 not approved …}. */
  public String state() {
    return csrName + " " + csrState;
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
        state(
            "not requested yet: the cloud is not connected",
            "no serving certificate yet: waiting for the cloud to request " + settings.csrName());
      }
      return; // connected() resumes
    }
    inFlight = true;
    KeyPair key = pendingKey();
    String name = settings.csrName();
    LOG.info("requesting MetaServer serving certificate {} for IPs {}", name, settings.ips());
    create(name, key, true);
  }

  /**
   * Creates CSR {@code name} for {@code key}. When the name is taken (409 AlreadyExists: a request
   * left from before a restart, or made by someone else), the existing request is used if it is for
   * this key, and otherwise replaced by one under a name derived from the key, since KubeEdge's
   * cloud can only create and read CSRs, not delete them.
   */
  private void create(String name, KeyPair key, boolean mayReplace) {
    ask(Operations.INSERT, name, csrObject(name, key))
        .whenCompleteAsync(
            (csr, err) -> {
              if (err == null) {
                pending(name, csr);
                poll(name, key, csr.path("metadata").path("uid").asString(""));
                return;
              }
              if (rootCause(err) instanceof CloudAnswer a && a.alreadyExists()) {
                adoptOrReplace(name, key, mayReplace);
                return;
              }
              retryLater("creating " + name + " failed: " + rootMessage(err));
            },
            timer);
  }

  private void adoptOrReplace(String name, KeyPair key, boolean mayReplace) {
    ask(Operations.QUERY, name, null)
        .whenCompleteAsync(
            (csr, err) -> {
              if (err != null) {
                retryLater(name + " already exists and cannot be read: " + rootMessage(err));
                return;
              }
              String uid = csr.path("metadata").path("uid").asString("");
              if (forKey(csr, key)) {
                String failed = failedCondition(csr);
                if (failed != null) {
                  forgetPendingKey();
                  retryLater(name + " (this edge's earlier request) " + failed);
                  return;
                }
                LOG.info("{} already exists for this edge's key; waiting for it", name);
                pending(name, csr);
                poll(name, key, uid);
                return;
              }
              if (!mayReplace) {
                forgetPendingKey();
                retryLater(name + " already exists for another key");
                return;
              }
              String replacement = replacementName(key);
              LOG.info(
                  "{} already exists for another key (a request from before a restart, or not"
                      + " this edge's); requesting {} instead",
                  name,
                  replacement);
              create(replacement, key, false);
            },
            timer);
  }

  private void poll(String name, KeyPair key, String uid) {
    if (closed) {
      return;
    }
    ask(Operations.QUERY, name, null)
        .whenCompleteAsync(
            (obj, err) -> {
              if (err != null) {
                if (rootCause(err) instanceof NotConnectedException) {
                  inFlight = false;
                  wanted = true;
                  if (current == null) {
                    state(
                        "created, not issued; the cloud is not connected",
                        "no serving certificate yet: the cloud is not reachable");
                  }
                  return; // connected() starts over
                }
                retryLater("polling " + name + " failed: " + rootMessage(err));
                return;
              }
              String gotUid = obj.path("metadata").path("uid").asString("");
              if (!uid.isEmpty() && !gotUid.isEmpty() && !uid.equals(gotUid)) {
                retryLater(name + " was replaced by another request");
                return;
              }
              String failed = failedCondition(obj);
              if (failed != null) {
                forgetPendingKey();
                retryLater(name + " " + failed);
                return;
              }
              String cert = obj.path("status").path("certificate").asString("");
              if (!cert.isEmpty()) {
                issued(name, key, cert);
                return;
              }
              Duration waited = Duration.between(pendingSince, clock.instant());
              boolean approved = hasCondition(obj, "Approved");
              if (approved) {
                state(
                    "approved "
                        + waited.toSeconds()
                        + " s after it was created; the signer has not issued the certificate",
                    "no serving certificate yet: "
                        + name
                        + " is approved but not issued: is kube-controller-manager's"
                        + " kubernetes.io/kubelet-serving signer running?");
              } else if (waited.compareTo(settings.warnAfter()) >= 0) {
                state(
                    "not approved " + waited.toSeconds() + " s after it was created",
                    "CSR "
                        + name
                        + " is not approved after "
                        + waited.toSeconds()
                        + " s: cloudcore approves it only with featureGates.requireAuthorization:"
                        + " true (its CSR approver), or approve it with kubectl certificate approve "
                        + name);
              }
              timer.schedule(
                  () -> poll(name, key, uid),
                  settings.pollInterval().toMillis(),
                  TimeUnit.MILLISECONDS);
            },
            timer);
  }

  private void pending(String name, JsonNode csr) {
    pendingSince = clock.instant();
    csrName = name;
    if (current == null) {
      state(
          "created (uid " + csr.path("metadata").path("uid").asString("?") + "), not approved yet",
          "no serving certificate yet: waiting for "
              + name
              + " to be approved and issued"
              + (lastFailure.isEmpty() ? "" : " (the previous attempt: " + lastFailure + ")"));
    }
  }

  /** The CSR's denial or failure, as a phrase, or null. */
  private static String failedCondition(JsonNode csr) {
    for (JsonNode c : csr.path("status").path("conditions")) {
      String type = c.path("type").asString("");
      if (type.equals("Denied") || type.equals("Failed")) {
        return "was "
            + type.toLowerCase(Locale.ROOT)
            + ": "
            + c.path("reason").asString("")
            + " "
            + c.path("message").asString("");
      }
    }
    return null;
  }

  private static boolean hasCondition(JsonNode csr, String type) {
    for (JsonNode c : csr.path("status").path("conditions")) {
      if (type.equals(c.path("type").asString(""))) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code csr}'s request is for {@code key}'s public key. */
  static boolean forKey(JsonNode csr, KeyPair key) {
    String request = csr.path("spec").path("request").asString("");
    try {
      String pem = new String(Base64.getDecoder().decode(request), StandardCharsets.US_ASCII);
      byte[] spki = Pem.csr(pem).getSubjectPublicKeyInfo().getEncoded();
      return Arrays.equals(spki, key.getPublic().getEncoded());
    } catch (IllegalArgumentException | java.io.IOException e) {
      return false;
    }
  }

  /** {@code metaserver-csr-<node>-<first 10 hex of the key's SHA-256>}: stable for one key. */
  String replacementName(KeyPair key) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getPublic().getEncoded());
      String tag = HexFormat.of().formatHex(d).substring(0, 10);
      String base = settings.csrName();
      // a CSR name is a DNS subdomain of at most 253 characters
      return (base.length() > 242 ? base.substring(0, 242) : base) + "-" + tag;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The key of the request under way: kept in {@link #PENDING_FILE} until its certificate is
   * issued, so that after a restart the edge recognises its own earlier CSR.
   */
  private KeyPair pendingKey() {
    Path f = settings.pkiDir().resolve(PENDING_FILE);
    if (Files.isRegularFile(f)) {
      try {
        String pem = Pem.read(f);
        String end = "-----END PUBLIC KEY-----";
        int cut = pem.indexOf(end) + end.length();
        return new KeyPair(
            Pem.publicKey(pem.substring(0, cut)), Pem.privateKey(pem.substring(cut)));
      } catch (RuntimeException e) {
        LOG.warn("ignoring the unreadable pending key {}: {}", f, e.getMessage());
      }
    }
    KeyPair key = KeyPairs.ecP256();
    try {
      Pem.write(f, Pem.encode(key.getPublic(), key.getPrivate()), true);
    } catch (RuntimeException e) {
      LOG.warn("cannot keep the pending key in {}: {}", f, e.getMessage());
    }
    return key;
  }

  /**
   * A pending key that the kept certificate is already for (edgecore stopped between keeping the
   * certificate and forgetting the key) must not be asked for again: the cloud would answer with
   * that same certificate.
   */
  private void forgetPendingKeyOf(Credentials c) {
    Path f = settings.pkiDir().resolve(PENDING_FILE);
    try {
      if (Files.isRegularFile(f)) {
        String pem = Pem.read(f);
        String end = "-----END PUBLIC KEY-----";
        if (Pem.publicKey(pem.substring(0, pem.indexOf(end) + end.length()))
            .equals(c.leaf().getPublicKey())) {
          forgetPendingKey();
        }
      }
    } catch (RuntimeException e) {
      forgetPendingKey(); // unreadable: pendingKey() would ignore it anyway
    }
  }

  private void forgetPendingKey() {
    try {
      Files.deleteIfExists(settings.pkiDir().resolve(PENDING_FILE));
    } catch (java.io.IOException e) {
      LOG.warn("cannot remove {}: {}", settings.pkiDir().resolve(PENDING_FILE), e.getMessage());
    }
  }

  /** Records where obtaining the certificate stands: for the log and for {@code /readyz}. */
  private void state(String csrState, String why) {
    this.csrState = csrState;
    if (current == null) {
      problem = why;
    }
  }

  /**
   * While there is no certificate, says once per {@code reportEvery} which CSR it waits for and in
   * what state, so that the edge's own log tells why pods cannot reach MetaServer.
   */
  private void report() {
    if (closed || current != null) {
      return;
    }
    LOG.warn(
        "MetaServer has no serving certificate: CSR {} {}{}",
        csrName,
        csrState,
        problem.isEmpty() || problem.contains(csrState) ? "" : " (" + problem + ")");
  }

  private void issued(String name, KeyPair key, String certBase64) {
    List<X509Certificate> chain;
    try {
      chain =
          Pem.certificates(
              new String(Base64.getDecoder().decode(certBase64), StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      retryLater(name + " carries no readable certificate");
      return;
    }
    if (chain.isEmpty() || !chain.get(0).getPublicKey().equals(key.getPublic())) {
      forgetPendingKey();
      retryLater(name + " was issued for another key");
      return;
    }
    Instant notAfter = chain.get(0).getNotAfter().toInstant();
    if (!notAfter.isAfter(clock.instant())) {
      // kube-controller-manager backdates notBefore by 5 minutes and adds its signing duration to
      // that: a duration under 5 minutes yields certificates that are expired when issued.
      forgetPendingKey();
      retryLater(
          name
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
    forgetPendingKey();
    lastFailure = "";
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
    lastFailure = why;
    inFlight = false;
    wanted = true;
    failures++;
    long delay =
        Math.min(
            settings.retryMax().toMillis(),
            settings.retryMin().toMillis() << Math.min(failures - 1, 16));
    LOG.warn("{}; trying again in {} s", why, delay / 1000);
    state(why + "; trying again in " + delay / 1000 + " s", "no serving certificate yet: " + why);
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

  private ObjectNode csrObject(String name, KeyPair key) {
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
    o.putObject("metadata").put("name", name);
    ObjectNode spec = o.putObject("spec");
    spec.put(
        "request", Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII)));
    spec.put("signerName", SIGNER);
    spec.putArray("usages").add("digital signature").add("key encipherment").add("server auth");
    return o;
  }

  /**
   * Sends an insert/query of CSR {@code name} and completes with the CSR the cloud answered, in
   * either of KubeEdge's forms: {@code {"Object": <CSR>, "Err": <StatusError>}} (insert) or the
   * bare CSR (query; an error then comes as {@code {"ErrStatus": …}}). A refusal fails with {@link
   * CloudAnswer}. EdgeHub acknowledges the reply, as KubeEdge's edge does.
   */
  private CompletableFuture<JsonNode> ask(String op, String name, JsonNode body) {
    Message m =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                op,
                ResourcePath.format("default", ResourcePath.CSR, name)),
            body);
    CompletableFuture<Message> reply;
    try {
      reply = link.request(m, settings.requestTimeout());
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(e);
    }
    return reply.thenApply(r -> csrIn(r.content()));
  }

  /** The CSR in a reply's content, in either form; throws {@link CloudAnswer} for a refusal. */
  static JsonNode csrIn(JsonNode content) {
    JsonNode c = content;
    if (c != null && c.isString()) {
      try {
        c = Json.parse(c.asString());
      } catch (RuntimeException e) {
        throw new CloudAnswer(500, "", "the cloud answered: " + c.asString());
      }
    }
    if (c == null || !c.isObject()) {
      throw new CloudAnswer(500, "", "the cloud answered without a CSR");
    }
    ObjectNode err = KubeStatus.fromErrStatus(c.has("Err") ? c.get("Err") : c);
    if (err != null) {
      throw new CloudAnswer(
          KubeStatus.code(err), err.path("reason").asString(""), err.path("message").asString(""));
    }
    JsonNode csr = c.has("Object") || c.has("Err") ? c.path("Object") : c;
    if (!csr.isObject() || !csr.path("spec").isObject()) {
      throw new CloudAnswer(500, "", "the cloud answered without a CSR");
    }
    return csr;
  }

  /** The cloud refused a CSR request; {@code code} is the HTTP status it gave. */
  static final class CloudAnswer extends RuntimeException {
    private final int code;
    private final String reason;

    CloudAnswer(int code, String reason, String message) {
      super("the cloud answered " + code + ": " + message, null, false, false);
      this.code = code;
      this.reason = reason;
    }

    int code() {
      return code;
    }

    boolean alreadyExists() {
      return code == 409 && (reason.isEmpty() || reason.equals("AlreadyExists"));
    }
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
    if (reporter != null) {
      reporter.cancel(false);
    }
  }
}
