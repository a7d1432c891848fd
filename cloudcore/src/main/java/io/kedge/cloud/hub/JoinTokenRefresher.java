package io.kedge.cloud.hub;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.ha.Leadership;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Secret {@code kubeedge/tokensecret} ({@code tokendata}) holding a join token valid for
 * twice {@code tokenRefreshDuration}, renewed every {@code tokenRefreshDuration} (as KubeEdge does;
 * keadm gettoken reads it there). With several cloudcores the leader writes it (at once when it
 * starts leading); tokens made by any of them are valid at all, as they share the CA.
 */
public final class JoinTokenRefresher {
  private static final Logger LOG = LoggerFactory.getLogger(JoinTokenRefresher.class);

  public static final String SECRET = "tokensecret";
  public static final String KEY = "tokendata";
  private static final Duration RETRY = Duration.ofMinutes(1);

  private final HubTls tls;
  private final KubernetesClient client;
  private final Duration refresh;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Leadership leadership;

  public JoinTokenRefresher(
      HubTls tls,
      KubernetesClient client,
      Duration refresh,
      ScheduledExecutorService scheduler,
      Clock clock) {
    this(tls, client, refresh, scheduler, clock, Leadership.ALONE);
  }

  public JoinTokenRefresher(
      HubTls tls,
      KubernetesClient client,
      Duration refresh,
      ScheduledExecutorService scheduler,
      Clock clock,
      Leadership leadership) {
    this.tls = tls;
    this.client = client;
    this.refresh = refresh;
    this.scheduler = scheduler;
    this.clock = clock;
    this.leadership = leadership;
  }

  /** Writes a token now (when leading) and schedules the renewals. */
  public void start() {
    leadership.addListener(
        () -> {
          try {
            scheduler.execute(this::write);
          } catch (RuntimeException shutdown) {
            // cloudcore is stopping
          }
        });
    run();
  }

  private void run() {
    Duration next = write() ? refresh : RETRY;
    try {
      scheduler.schedule(this::run, next.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RuntimeException shutdown) {
      // cloudcore is stopping
    }
  }

  /** Writes a new token when this cloudcore leads; false when that failed. */
  private boolean write() {
    if (!leadership.isLeader()) {
      return true;
    }
    try {
      String token =
          JoinToken.create(
              tls.ca().certificate(),
              HubPki.sec1(tls.ca().privateKey()),
              clock.instant(),
              refresh.multipliedBy(2));
      HubPki.save(client, SECRET, Map.of(KEY, token.getBytes(StandardCharsets.US_ASCII)));
      LOG.info(
          "cloudhub: join token written to Secret {}/{} (valid {} h)",
          HubPki.NAMESPACE,
          SECRET,
          refresh.multipliedBy(2).toHours());
      return true;
    } catch (RuntimeException e) {
      LOG.warn(
          "cloudhub: cannot write the join token (retry in {} s): {}",
          RETRY.toSeconds(),
          e.toString());
      return false;
    }
  }
}
