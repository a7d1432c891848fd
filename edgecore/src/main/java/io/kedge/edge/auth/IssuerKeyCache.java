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
    this.current = merge(doc.cached().map(IssuerKeyCache::parseOrNull).orElse(null));
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
                LOG.warn(
                    "cannot fetch the service-account issuer keys ({}): {}; {} keys in use",
                    why,
                    err.toString(),
                    current.keys().size());
                return;
              }
              Jwks fresh = parseOrNull(text);
              if (fresh != null) {
                current = merge(fresh);
                LOG.info("service-account issuer keys: {} ({})", current, why);
              }
            });
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
