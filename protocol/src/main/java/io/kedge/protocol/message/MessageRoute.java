package io.kedge.protocol.message;

/**
 * Where a message comes from and what it does: {@code source} (module), {@code group} (handler
 * group at the receiver), {@code operation} (see {@link Operations}), {@code resource} (a resource
 * string, see {@link ResourcePath}). Empty strings stand for absent fields.
 */
public record MessageRoute(String source, String group, String operation, String resource) {

  public MessageRoute {
    source = source == null ? "" : source;
    group = group == null ? "" : group;
    operation = operation == null ? "" : operation;
    resource = resource == null ? "" : resource;
  }

  public MessageRoute withOperation(String op) {
    return new MessageRoute(source, group, op, resource);
  }

  public MessageRoute withResource(String res) {
    return new MessageRoute(source, group, operation, res);
  }

  public MessageRoute withSource(String src) {
    return new MessageRoute(src, group, operation, resource);
  }

  public MessageRoute withGroup(String grp) {
    return new MessageRoute(source, grp, operation, resource);
  }
}
