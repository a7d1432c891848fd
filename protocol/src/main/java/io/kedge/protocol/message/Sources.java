package io.kedge.protocol.message;

/** Module names used as {@code route.source}, and the groups used as {@code route.group}. */
public final class Sources {
  private Sources() {}

  // cloud modules
  public static final String EDGE_CONTROLLER = "edgecontroller";
  public static final String DYNAMIC_CONTROLLER = "dynamiccontroller";
  public static final String POLICY_CONTROLLER = "policycontroller";
  public static final String CLOUD_HUB = "cloudhub";

  // edge modules
  public static final String EDGED = "edged";
  public static final String META_MANAGER = "metamanager";
  public static final String META_SERVER = "metaserver";
  public static final String WEBSOCKET = "websocket";

  // groups
  public static final String GROUP_RESOURCE = "resource";
  public static final String GROUP_META = "meta";
  public static final String GROUP_DYNAMIC_CONTROLLER = "dynamiccontroller";
  public static final String GROUP_USER = "user";
  public static final String GROUP_TWIN = "twin";
}
