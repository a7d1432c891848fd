package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys pod tokens are verified with: the service-account issuer's JWKS, asked from the cloud
 * ({@code k8s/jwks}) when the link comes up, periodically, and when a token names an unknown key
 * (the issuer may have rotated), kept in {@code <pkiDir>/jwks.json} for offline use; plus any PEM
 * public keys from {@code serviceAccountKeyFiles}.
 *
 * <p>A KubeEdge cloudcore has no JWKS to offer (it does not answer {@code k8s/jwks}). Without keys
 * from either source, tokens are checked as KubeEdge's edge checks them when {@code
 * serviceAccountKeyFiles} is empty: a token must be one this node obtained for one of its pods.
 * Which method is in force, and why, is logged once each time it changes ({@link #method()}).
 */
public final class IssuerKeyCache implements VerificationKeys, CloudLinkListener {
  private static final Logger LOG = LoggerFactory.getLogger(IssuerKeyCache.class);
  public static final String RESOURCE = "k8s/jwks";

  private final CloudDocument doc;
  private final List<Jwks.Key> fileKeys;
  private final ScheduledExecutorService timer;
  private final Duration minRefreshGap;
  private final Clock clock;
  private volatile Jwks current;
  private volatile Instant lastAsked = Instant.MIN;
  private volatile int cloudKeys;
  private volatile String cloudProblem = "the cloud has not been asked for them yet";
  private String announced = ""; // guarded by this

  /**
   * @param keyFiles PEM files with public keys ({@code serviceAccountKeyFiles}); unreadable ones
   *     are named in the log and skipped
   * @param refreshPeriod how often the JWKS is fetched again while connected
   */
  public IssuerKeyCache(
      CloudLink link,
      Path pkiDir,
      List<String> keyFiles,
      Duration timeout,
      Duration refreshPeriod,
      ScheduledExecutorService timer,
      Clock clock) {
    this.doc =
        new CloudDocument(
            link, RESOURCE, pkiDir.resolve("jwks.json"), timeout, IssuerKeyCache::usable);
    this.timer = timer;
    this.clock = clock;
    this.minRefreshGap = Duration.ofSeconds(30);
    this.fileKeys = readKeyFiles(keyFiles);
    Jwks kept = doc.cached().map(IssuerKeyCache::parseOrNull).orElse(null);
    this.current = merge(kept);
    if (kept != null && !kept.isEmpty()) {
      cloudKeys = kept.keys().size();
      cloudProblem = "";
    }
    announce();
    link.addListener(this);
    long period = Math.max(1, refreshPeriod.toSeconds());
    timer.scheduleWithFixedDelay(
        () -> {
          if (link.isConnected()) {
            refresh("periodic");
          }
        },
        period,
        period,
        TimeUnit.SECONDS);
  }

  @Override
  public Jwks current() {
    return current;
  }

  @Override
  public void unknownKeyId(String kid) {
    Instant now = clock.instant();
    if (lastAsked.plus(minRefreshGap).isBefore(now)) {
      lastAsked = now;
      timer.execute(() -> refresh("unknown key id " + kid));
    }
  }

  @Override
  public void connected() {
    refresh("connected");
  }

  private void refresh(String why) {
    lastAsked = clock.instant();
    doc.refresh()
        .whenComplete(
            (text, err) -> {
              if (err != null) {
                Throwable c =
                    err instanceof java.util.concurrent.CompletionException ? err.getCause() : err;
                String problem =
                    c instanceof java.util.concurrent.TimeoutException
                        ? "the cloud did not answer "
                            + RESOURCE
                            + " (KubeEdge's cloudcore has none)"
                        : "the cloud gave no usable " + RESOURCE + ": " + c.getMessage();
                if (cloudKeys > 0) {
                  LOG.warn(
                      "cannot refresh the service-account issuer keys ({}): {}; the {} kept keys"
                          + " stay in use",
                      why,
                      problem,
                      cloudKeys);
                } else {
                  cloudProblem = problem;
                  announce();
                }
                return;
              }
              Jwks fresh = parseOrNull(text);
              if (fresh != null) {
                cloudKeys = fresh.keys().size();
                cloudProblem = "";
                current = merge(fresh);
                LOG.info("service-account issuer keys: {} ({})", current, why);
                announce();
              }
            });
  }

  /** How pod tokens are verified now, and why; for the log and for {@code /readyz}. */
  public String method() {
    int files = fileKeys.size();
    if (cloudKeys > 0 && files > 0) {
      return "by signature, with the service-account issuer keys from the cloud ("
          + cloudKeys
          + ") and from serviceAccountKeyFiles ("
          + files
          + ")";
    }
    if (cloudKeys > 0) {
      return "by signature, with the service-account issuer keys from the cloud ("
          + cloudKeys
          + ", kept in "
          + doc.file()
          + ")";
    }
    if (files > 0) {
      return "by signature, with the " + files + " keys of serviceAccountKeyFiles";
    }
    return "by equality with the tokens this node obtained for its pods, as KubeEdge's edge does"
        + " without serviceAccountKeyFiles (no issuer keys: "
        + cloudProblem
        + ")";
  }

  /** Whether no key is known, so only tokens this node obtained are accepted. */
  public boolean byEquality() {
    return cloudKeys == 0 && fileKeys.isEmpty();
  }

  private synchronized void announce() {
    String m = method();
    // said once per change of method or of its reason (the hourly retry repeats the same reason)
    if (!m.equals(announced)) {
      announced = m;
      LOG.info("pod tokens are verified {}", m);
    }
  }

  private Jwks merge(Jwks fetched) {
    List<Jwks.Key> all = new ArrayList<>(fileKeys);
    if (fetched != null) {
      all.addAll(fetched.keys());
    }
    return Jwks.of(all);
  }

  private static Jwks parseOrNull(String text) {
    try {
      return Jwks.parse(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean usable(String text) {
    Jwks j = parseOrNull(text);
    return j != null && !j.isEmpty();
  }

  private static List<Jwks.Key> readKeyFiles(List<String> files) {
    List<Jwks.Key> out = new ArrayList<>();
    for (String f : files == null ? List.<String>of() : files) {
      try {
        String pem = Files.readString(Path.of(f));
        out.add(new Jwks.Key("", "", Pem.publicKey(pem)));
      } catch (Exception e) {
        LOG.warn("serviceAccountKeyFiles: cannot read a public key from {}: {}", f, e.getMessage());
      }
    }
    return out;
  }
}
