package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.authz.PodTokenIdentity;
import io.kedge.cloud.authz.Subject;

/** The identity an edge request is executed with. */
public sealed interface Caller {

  /** For logs; never contains a token. */
  String describe();

  /** The subject the apiserver's authorizer sees, for SubjectAccessReviews; null for cloudcore. */
  Subject subject();

  /** A pod's own ServiceAccount: the request is sent with its verified token. */
  record Pod(PodTokenIdentity identity, String token) implements Caller {
    @Override
    public String describe() {
      return "pod " + identity.pod() + " (" + identity.username() + ")";
    }

    @Override
    public Subject subject() {
      return identity.subject();
    }

    @Override
    public String toString() {
      return describe(); // the token stays out of logs
    }
  }

  /** The node itself, impersonated. */
  record Node(String node) implements Caller {
    @Override
    public String describe() {
      return "system:node:" + node;
    }

    @Override
    public Subject subject() {
      return Subject.node(node);
    }
  }

  /** cloudcore's own ServiceAccount. */
  record CloudCore() implements Caller {
    @Override
    public String describe() {
      return "cloudcore";
    }

    @Override
    public Subject subject() {
      return null;
    }
  }
}
