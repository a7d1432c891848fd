package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.protocol.message.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An {@link EdgeMessenger} standing in for CloudHub in tests: records replies by {@code
 * parent_msg_id} and deliveries per node (with the time they were handed over), and acknowledges
 * every delivery at once. Every node counts as connected unless marked otherwise.
 */
final class RecordingMessenger implements EdgeMessenger {
  /** A delivered message and when it was handed over ({@link System#nanoTime()}). */
  record Delivery(Message message, long nanos) {}

  private final Map<String, CompletableFuture<Message>> replies = new ConcurrentHashMap<>();
  private final Map<String, List<Delivery>> deliveries = new ConcurrentHashMap<>();
  private final Set<String> disconnected = ConcurrentHashMap.newKeySet();
  private final List<Message> sent = new CopyOnWriteArrayList<>();
  private final Set<String> each = ConcurrentHashMap.newKeySet();
  private final Set<String> withholding = ConcurrentHashMap.newKeySet();
  private final List<CompletableFuture<Void>> withheld = new CopyOnWriteArrayList<>();
  private volatile DeliveryListener listener;

  interface DeliveryListener {
    void delivered(String node, Message m, long nanos);
  }

  void onDelivery(DeliveryListener l) {
    this.listener = l;
  }

  @Override
  public boolean isConnected(String node) {
    return !disconnected.contains(node);
  }

  @Override
  public Set<String> connectedNodes() {
    return Set.of();
  }

  void setConnected(String node, boolean up) {
    if (up) {
      disconnected.remove(node);
    } else {
      disconnected.add(node);
    }
  }

  @Override
  public boolean send(String node, Message message) {
    if (!isConnected(node)) {
      return false;
    }
    sent.add(message);
    replyFuture(message.parentId()).complete(message);
    return true;
  }

  @Override
  public CompletableFuture<Void> deliverEach(String node, Message message) {
    each.add(message.id());
    return deliver(node, message);
  }

  /** Whether {@code m} was handed over with {@link #deliverEach} (never replaced by another). */
  boolean deliveredEach(Message m) {
    return each.contains(m.id());
  }

  @Override
  public CompletableFuture<Void> deliver(String node, Message message) {
    long t = System.nanoTime();
    deliveries
        .computeIfAbsent(node, k -> new CopyOnWriteArrayList<>())
        .add(new Delivery(message, t));
    DeliveryListener l = listener;
    if (l != null) {
      l.delivered(node, message, t);
    }
    if (withholding.contains(node)) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      withheld.add(f);
      return f;
    }
    return CompletableFuture.completedFuture(null);
  }

  /** From now on deliveries to {@code node} stay unacknowledged until {@link #acknowledge}. */
  void withholdAcks(String node) {
    withholding.add(node);
  }

  /** Acknowledges what was withheld, and acknowledges at once again. */
  void acknowledge(String node) {
    withholding.remove(node);
    for (CompletableFuture<Void> f : withheld) {
      f.complete(null);
    }
    withheld.clear();
  }

  /** Messages sent without ACK, in order. */
  List<Message> sent() {
    return List.copyOf(sent);
  }

  CompletableFuture<Message> replyFuture(String requestId) {
    return replies.computeIfAbsent(requestId, k -> new CompletableFuture<>());
  }

  List<Delivery> deliveries(String node) {
    return new ArrayList<>(deliveries.getOrDefault(node, List.of()));
  }

  List<Message> delivered(String node) {
    return deliveries(node).stream().map(Delivery::message).toList();
  }

  Set<String> nodesWithDeliveries() {
    return deliveries.keySet();
  }

  void clearDeliveries() {
    deliveries.clear();
  }

  int sentCount() {
    return sent.size();
  }
}
