package io.kedge.keadm;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The KubeEdge release a Kedge install is compatible with ({@code --kubeedge-version}). Kedge has
 * no images to download, so the version selects the protocol level the cloud and edge speak and is
 * recorded with the install.
 */
public record KubeEdgeVersion(int major, int minor, int patch)
    implements Comparable<KubeEdgeVersion> {

  /** The release whose in-cluster-config procedure Kedge follows. */
  public static final KubeEdgeVersion DEFAULT = new KubeEdgeVersion(1, 17, 0);

  /** The first release with MetaServer in-cluster config for edge pods. */
  public static final KubeEdgeVersion MINIMUM = new KubeEdgeVersion(1, 17, 0);

  private static final Pattern FORM = Pattern.compile("v?(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

  /**
   * Parses {@code v1.17.0} (or {@code 1.17.0}).
   *
   * @throws IllegalArgumentException with a message fit for the user
   */
  public static KubeEdgeVersion parse(String text) {
    String s = text == null ? "" : text.strip();
    Matcher m = FORM.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "--kubeedge-version: expected a KubeEdge release like v1.17.0, got '" + text + "'");
    }
    KubeEdgeVersion v =
        new KubeEdgeVersion(
            Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)));
    if (v.major != 1) {
      throw new IllegalArgumentException(
          "--kubeedge-version: only KubeEdge 1.x releases exist, got '" + text + "'");
    }
    if (v.compareTo(MINIMUM) < 0) {
      throw new IllegalArgumentException(
          "--kubeedge-version: "
              + v
              + " predates in-cluster config for edge pods; use "
              + MINIMUM
              + " or newer");
    }
    return v;
  }

  /**
   * The namespace token KubeEdge uses for cluster-scoped objects such as nodes in message
   * resources: {@code default} before v1.23, {@code null} from v1.23 on.
   */
  public String clusterScopeToken() {
    return minor >= 23 ? "null" : "default";
  }

  /**
   * Whether MetaServer passes discovery ({@code /api}, {@code /apis}) through (v1.18 and later).
   */
  public boolean discoveryPassThrough() {
    return minor >= 18;
  }

  @Override
  public int compareTo(KubeEdgeVersion o) {
    int c = Integer.compare(major, o.major);
    if (c == 0) {
      c = Integer.compare(minor, o.minor);
    }
    return c != 0 ? c : Integer.compare(patch, o.patch);
  }

  @Override
  public String toString() {
    return "v" + major + "." + minor + "." + patch;
  }
}
