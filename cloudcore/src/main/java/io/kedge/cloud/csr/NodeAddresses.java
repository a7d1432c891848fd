package io.kedge.cloud.csr;

import java.net.InetAddress;
import java.util.Set;

/**
 * The addresses cloudcore itself knows for a node: seen on the node's own connection, never taken
 * from anything the node writes (its Node object, annotations, status addresses), since a node may
 * change those at will.
 *
 * <p>One cloudcore answers from the sessions it holds (the remote address of the node's CloudHub
 * connection). With several cloudcores the approver may not hold the node's session; then the
 * cloudcore that does would record the address where only cloudcore may write, e.g. one Lease per
 * node in the {@code kubeedge} namespace ({@code edge-session-<node>}: holder = that cloudcore,
 * address in its spec or an annotation, renewed while the session lasts, deleted when it ends).
 * Nodes have no rights in that namespace (the Node authorizer grants Lease writes only in {@code
 * kube-node-lease}, under the node's own name), so the record stays cloudcore's word. That
 * implementation reads the Lease from an informer and ignores one whose renewal is stale; the
 * approver does not change.
 */
@FunctionalInterface
public interface NodeAddresses {
  /**
   * The addresses {@code node} connects from as cloudcore sees them; empty when no session of the
   * node is known.
   */
  Set<InetAddress> of(String node);

  /** Knows no node: only addresses that never leave a node's host are approved. */
  NodeAddresses NONE = node -> Set.of();
}
