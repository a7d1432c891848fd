package io.kedge.cloud.ha;

/**
 * Whether this cloudcore is the one that does the cluster-wide duties: approving CSRs, writing
 * ServiceAccountAccess objects, refreshing the join token, collecting garbage. A duty asks {@link
 * #isLeader()} right before each write, and does from the start what it skipped while following
 * when it is told it leads.
 */
public interface Leadership {

  /** Told when this cloudcore starts or stops leading. Must not block. */
  interface Listener {
    void startedLeading();

    default void stoppedLeading() {}
  }

  /**
   * True only while this cloudcore holds the leader Lease with time to spare: false from the moment
   * it could no longer be sure, before another may take the Lease.
   */
  boolean isLeader();

  void addListener(Listener l);

  /** A cloudcore that never shares its duties (in-process tests, tools). */
  Leadership ALONE =
      new Leadership() {
        @Override
        public boolean isLeader() {
          return true;
        }

        @Override
        public void addListener(Listener l) {}
      };
}
