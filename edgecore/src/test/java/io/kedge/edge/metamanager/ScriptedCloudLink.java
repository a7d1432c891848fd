package io.kedge.edge.metamanager;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.message.Message;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A {@link CloudLink} for unit tests: answers requests with a function, records what was sent. */
public final class ScriptedCloudLink implements CloudLink {
  public final List<Message> requests = new CopyOnWriteArrayList<>();
  public final List<Message> sent = new CopyOnWriteArrayList<>();
  private final List<CloudLinkListener> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean connected = true;
  private volatile Function<Message, CompletableFuture<Message>> answer;

  public ScriptedCloudLink(Function<Message, CompletableFuture<Message>> answer) {
    this.answer = answer;
  }

  public void answer(Function<Message, CompletableFuture<Message>> a) {
    this.answer = a;
  }

  public void setConnected(boolean c) {
    boolean was = connected;
    connected = c;
    if (was != c) {
      for (CloudLinkListener l : listeners) {
        if (c) {
          l.connected();
        } else {
          l.disconnected();
        }
      }
    }
  }

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public CompletableFuture<Message> request(Message request, Duration timeout) {
    if (!connected) {
      return CompletableFuture.failedFuture(new NotConnectedException("offline"));
    }
    requests.add(request);
    return answer.apply(request);
  }

  @Override
  public void send(Message message) {
    if (!connected) {
      throw new NotConnectedException("offline");
    }
    sent.add(message);
  }

  @Override
  public void addListener(CloudLinkListener listener) {
    listeners.add(listener);
  }
}
