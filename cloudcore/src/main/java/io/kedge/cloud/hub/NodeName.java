package io.kedge.cloud.hub;

import java.util.regex.Pattern;

/** Node names as Kubernetes accepts them (DNS-1123 subdomain), and the identity a node proves. */
public final class NodeName {
  private NodeName() {}

  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  public static final String USER_PREFIX = "system:node:";
  public static final String NODES_GROUP = "system:nodes";

  public static boolean isValid(String name) {
    return name != null
        && !name.isEmpty()
        && name.length() <= 253
        && SUBDOMAIN.matcher(name).matches();
  }

  /** The certificate CN (and Kubernetes user name) of node {@code name}. */
  public static String user(String name) {
    return USER_PREFIX + name;
  }
}
