package io.kedge.testkit.diff;

/**
 * One operation of a {@link Schedule}. Namespaces are 0 and 1 (-1: all namespaces), actors are pod
 * slots of a namespace ({@link Schedule#SLOTS}); what a step picks from the run's history (a
 * resourceVersion to watch from) it picks by a fraction, so that the step is the same however the
 * versions fall.
 */
public sealed interface Step {

  /** Whose token a request carries: the slot's pod now, or the pod it had before (deleted). */
  enum Token {
    CURRENT,
    PREVIOUS
  }

  /** A write through MetaServer with the slot's token, the apiserver's dry run as the oracle. */
  record Write(int ns, int slot, Token token, WriteKind kind, String name, String app, String tier)
      implements Step {
    @Override
    public String toString() {
      return "write "
          + kind
          + " "
          + name
          + " in ns"
          + ns
          + " as slot "
          + slot
          + (token == Token.PREVIOUS ? " (previous pod's token)" : "")
          + (kind == WriteKind.CREATE || kind == WriteKind.PATCH_LABELS
              ? " labels app=" + app + (tier.isEmpty() ? "" : ",tier=" + tier)
              : "");
    }
  }

  enum WriteKind {
    CREATE,
    UPDATE,
    PATCH_DATA,
    PATCH_LABELS,
    DELETE
  }

  /** {@code count} merge patches to one object in a row, through MetaServer. */
  record Burst(int ns, int slot, String name, int count) implements Step {
    @Override
    public String toString() {
      return "burst of " + count + " patches to " + name + " in ns" + ns + " as slot " + slot;
    }
  }

  /** A write made directly at the apiserver by another client (the cloud side changes too). */
  record CloudWrite(int ns, WriteKind kind, String name, String app) implements Step {
    @Override
    public String toString() {
      return "write " + kind + " " + name + " in ns" + ns + " directly at the apiserver";
    }
  }

  /** A read through MetaServer and the same read at the apiserver, compared. */
  record Read(
      int ns,
      int slot,
      Token token,
      ReadKind kind,
      Version version,
      double pick,
      String name,
      String labelSelector,
      String fieldSelector)
      implements Step {
    @Override
    public String toString() {
      return kind
          + (kind == ReadKind.GET ? " " + name : "")
          + (ns < 0 ? " across namespaces" : " in ns" + ns)
          + " resourceVersion="
          + version
          + (labelSelector.isEmpty() ? "" : " labelSelector=" + labelSelector)
          + (fieldSelector.isEmpty() ? "" : " fieldSelector=" + fieldSelector)
          + " as slot "
          + slot
          + (token == Token.PREVIOUS ? " (previous pod's token)" : "");
    }
  }

  enum ReadKind {
    LIST,
    GET
  }

  /**
   * Which resourceVersion a read or watch names: unset, 0, a version of the run's history (recent,
   * of this schedule, or of the run's beginning), or that of a list just made through MetaServer.
   */
  enum Version {
    UNSET,
    ZERO,
    RECENT,
    OLD,
    VERY_OLD,
    LISTED,
    EXACT_RECENT
  }

  /** A list read in pages of {@code limit}, the link cut or restored between two pages. */
  record PagedList(int ns, int slot, int limit, String labelSelector, Between between)
      implements Step {
    @Override
    public String toString() {
      return "LIST in pages of "
          + limit
          + " in ns"
          + ns
          + (labelSelector.isEmpty() ? "" : " labelSelector=" + labelSelector)
          + " as slot "
          + slot
          + (between == Between.NOTHING ? "" : ", link " + between + " after the first page");
    }
  }

  enum Between {
    NOTHING,
    CUT,
    RESTORED
  }

  /** Opens watch {@code id} through MetaServer and the same watch at the apiserver. */
  record WatchOpen(
      int id,
      int ns,
      int slot,
      Version version,
      double pick,
      String labelSelector,
      String fieldSelector)
      implements Step {
    @Override
    public String toString() {
      return "open watch #"
          + id
          + " in ns"
          + ns
          + " from resourceVersion "
          + version
          + (labelSelector.isEmpty() ? "" : " labelSelector=" + labelSelector)
          + (fieldSelector.isEmpty() ? "" : " fieldSelector=" + fieldSelector)
          + " as slot "
          + slot;
    }
  }

  /** Compares watch {@code id} with the apiserver's and closes both. */
  record WatchCheck(int id) implements Step {
    @Override
    public String toString() {
      return "check and close watch #" + id;
    }
  }

  /**
   * Lists of both namespaces through MetaServer equal the apiserver's, {@code resourceVersion}
   * unset and 0 (once the edge has caught up), and every slot's token gets the apiserver's answer.
   */
  record Checkpoint(int slot) implements Step {
    @Override
    public String toString() {
      return "checkpoint (lists of both namespaces as slot " + slot + ", every token's answer)";
    }
  }

  /** A pod for an empty slot, on the edge node, with a token bound to it. */
  record PodCreate(int ns, int slot) implements Step {
    @Override
    public String toString() {
      return "create the pod of slot " + slot + " in ns" + ns;
    }
  }

  /** Deletes the slot's pod (at once, or with the default grace period). */
  record PodDelete(int ns, int slot, boolean graceful) implements Step {
    @Override
    public String toString() {
      return "delete the pod of slot "
          + slot
          + " in ns"
          + ns
          + (graceful ? " (default grace period)" : " (grace period 0)");
    }
  }

  /** Removes ({@code grant} false) or restores the RoleBinding of a service account. */
  record Binding(int ns, String serviceAccount, boolean grant) implements Step {
    @Override
    public String toString() {
      return (grant ? "restore" : "revoke")
          + " the RoleBinding of service account "
          + serviceAccount
          + " in ns"
          + ns;
    }
  }

  /** {@code kill -9} of edgecore, then starts it again. */
  record KillEdge() implements Step {
    @Override
    public String toString() {
      return "kill -9 edgecore and start it again";
    }
  }

  /** Cuts the link between edgecore and cloudcore. */
  record Cut(boolean silent) implements Step {
    @Override
    public String toString() {
      return "cut the cloud link" + (silent ? " (silently: packets lost)" : " (reset)");
    }
  }

  /** Restores the link. */
  record Restore() implements Step {
    @Override
    public String toString() {
      return "restore the cloud link";
    }
  }
}
