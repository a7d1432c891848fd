package io.kedge.cloud.policy;

import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.protocol.message.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Records what would go to each node; every node counts as connected and acknowledges at once. */
final class RecordingMessenger implements EdgeMessenger {
  final Map<String, List<Message>> delivered = new ConcurrentHashMap<>();

  @Override
  public boolean isConnected(String node) {
    return true;
  }

  @Override
  public Set<String> connectedNodes() {
    return delivered.keySet();
  }

  @Override
  public boolean send(String node, Message message) {
    list(node).add(message);
    return true;
  }

  @Override
  public CompletableFuture<Void> deliver(String node, Message message) {
    list(node).add(message);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Void> deliverEach(String node, Message message) {
    return deliver(node, message);
  }

  synchronized List<Message> list(String node) {
    return delivered.computeIfAbsent(
        node, n -> java.util.Collections.synchronizedList(new ArrayList<>()));
  }

  List<Message> of(String node) {
    synchronized (list(node)) {
      return new ArrayList<>(list(node));
    }
  }
}
