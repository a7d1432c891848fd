package io.kedge.cloud.cloudstream;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** The edges whose tunnel is connected to this cloudcore, by node name. */
final class TunnelSessions {
  private final Map<String, TunnelSession> byNode = new ConcurrentHashMap<>();
  private final Consumer<String> onConnect;

  /**
   * @param onConnect told the node's name when its tunnel connects (the node's kubelet port is then
   *     pointed at this cloudcore)
   */
  TunnelSessions(Consumer<String> onConnect) {
    this.onConnect = onConnect;
  }

  void add(TunnelSession s) {
    TunnelSession old = byNode.put(s.node(), s);
    if (old != null && old != s) {
      old.close();
    }
    onConnect.accept(s.node());
  }

  void remove(TunnelSession s) {
    byNode.remove(s.node(), s);
    s.closed();
  }

  Optional<TunnelSession> get(String node) {
    return Optional.ofNullable(byNode.get(node));
  }

  boolean connected(String node) {
    return byNode.containsKey(node);
  }

  void closeAll() {
    byNode.values().forEach(TunnelSession::close);
  }
}
