package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.diff.DiffCluster;
import io.kedge.testkit.diff.DifferentialRun;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 17's differential test: random schedules of operations through MetaServer — writes of
 * ConfigMaps in two namespaces, bursts of updates to one object, lists with resourceVersion unset,
 * 0 and exact, pages, label and field selectors, watches from random versions (old ones too), pods
 * created and deleted, RoleBindings revoked, {@code kill -9} of edgecore and cuts of its cloud link
 * — each compared with the apiserver answering the same request with the same token, and each watch
 * with the apiserver's watch of the same scope from the same version (see {@link DifferentialRun}
 * for what is compared and how). A real cloudcore and edgecore serve all schedules, restarted only
 * by the steps that kill them.
 *
 * <p>Twenty schedules by default, from a random first seed (printed); {@code -Dkedge.diff.seed=N}
 * starts from seed N (a failing schedule replays with {@code -Dkedge.diff.seed=N
 * -Dkedge.diff.schedules=1}), {@code -Dkedge.diff.schedules} sets how many, {@code
 * -Dkedge.diff.steps} how long each is. The bench profile runs a thousand ({@code
 * DifferentialBench}).
 */
@WithControlPlane
class DifferentialIT {
  private static final Logger LOG = LoggerFactory.getLogger(DifferentialIT.class);

  @Test
  void metaServerAnswersAsTheApiserverDoes(ControlPlane plane, KubernetesClient admin) {
    long seed = Long.getLong("kedge.diff.seed", System.currentTimeMillis() % 1_000_000_000L);
    int schedules = Integer.getInteger("kedge.diff.schedules", 20);
    int steps = Integer.getInteger("kedge.diff.steps", 24);
    Path dir = RunFiles.runDir("differential-it-");
    LOG.info(
        "differential test: {} schedules of {} steps from seed {} (files in {})",
        schedules,
        steps,
        seed,
        dir);
    try (DiffCluster cluster = DiffCluster.start(plane, admin, dir)) {
      DifferentialRun.Result r = new DifferentialRun(cluster).run(seed, schedules, steps);
      LOG.info(
          "differential test: {} schedules, {} steps in {} s; {} with differences; {}",
          r.schedules(),
          r.steps(),
          r.took().toSeconds(),
          r.failures().size(),
          r.counts());
      assertThat(r.failures())
          .as(
              "schedules where MetaServer differed from the apiserver:\n"
                  + r.failures().stream()
                      .map(DifferentialRun.Failure::toString)
                      .collect(Collectors.joining("\n\n")))
          .isEmpty();
      assertThat(r.counts().getOrDefault("watches equal to the apiserver's, event for event", 0L))
          .as("watches compared event for event")
          .isPositive();
      assertThat(
              r.counts()
                  .getOrDefault("list versions checked against the apiserver's exact list", 0L))
          .isPositive();
      // Any twenty consecutive seeds kill edgecore and cut the link (Schedule places them so).
      if (schedules >= 15) {
        assertThat(r.counts().getOrDefault("edgecore kill -9", 0L)).as("kills").isPositive();
        assertThat(
                r.counts().getOrDefault("link cut (reset)", 0L)
                    + r.counts().getOrDefault("link cut silently", 0L))
            .as("link cuts")
            .isPositive();
      }
    }
  }
}
