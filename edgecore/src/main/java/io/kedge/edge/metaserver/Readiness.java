package io.kedge.edge.metaserver;

import java.util.List;

/**
 * What keeps MetaServer from being ready, as named checks (e.g. no trusted serving certificate
 * yet). Reported by {@code /readyz} with status 500, as the apiserver reports failed checks.
 */
@FunctionalInterface
public interface Readiness {

  /** One failed check: a short name and what to do about it. */
  record Problem(String check, String message) {}

  List<Problem> problems();

  static Readiness ready() {
    return List::of;
  }
}
