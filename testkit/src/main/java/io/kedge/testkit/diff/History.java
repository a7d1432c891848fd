package io.kedge.testkit.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Every event of the run's ConfigMaps in the test's namespaces, from one watch held at the
 * apiserver across all namespaces (opened again from its last version when the apiserver ends it).
 * It supplies the versions steps watch from, shows that acknowledged writes reached the apiserver,
 * and is the apiserver's watch of a namespace from a version its watch cache no longer has.
 */
final class History implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(History.class);

  /** One event: its position in the history, namespace, type, name, version and object. */
  record Event(int index, String namespace, String type, String name, long rv, JsonNode object) {}

  private final KubeHttp http;
  private final String apiserver;
  private final String token;
  private final Set<String> namespaces;
  private final List<Event> events = new ArrayList<>(); // guarded by this
  private int gapBefore; // guarded by this: events before this index are not continuous with it
  private volatile long lastRv;
  private volatile KubeHttp.WatchStream stream;
  private volatile boolean closed;
  private final Thread keeper;

  History(KubeHttp http, String apiserver, String token, Set<String> namespaces, long from) {
    this.http = http;
    this.apiserver = apiserver;
    this.token = token;
    this.namespaces = namespaces;
    this.lastRv = from;
    this.keeper = new Thread(this::keep, "history");
    this.keeper.setDaemon(true);
    this.keeper.start();
  }

  private void keep() {
    while (!closed) {
      if (lastRv == 0) {
        // After an expiry: from now on (a watch from 0 would begin with made-up ADDED events).
        KubeHttp.Reply r = http.get(apiserver, "/api/v1/configmaps?limit=1", token);
        if (r.code() != 200) {
          LOG.warn("the history cannot list: {}", r);
          sleep(1000);
          continue;
        }
        lastRv = Long.parseLong(r.json().path("metadata").path("resourceVersion").asString("0"));
      }
      KubeHttp.WatchStream w =
          http.watch(
              apiserver,
              "/api/v1/configmaps?watch=true&timeoutSeconds=3600&resourceVersion=" + lastRv,
              token,
              this::take);
      stream = w;
      while (!closed && !w.ended()) {
        sleep(50);
      }
      if (!closed) {
        LOG.info("the history's watch ended ({}); watching again from {}", w.endReason(), lastRv);
        sleep(200);
      }
    }
  }

  private void take(JsonNode e) {
    String type = e.path("type").asString("");
    JsonNode o = e.path("object");
    if (type.equals("ERROR")) {
      synchronized (this) {
        LOG.warn("the history's watch expired at {}: {}", lastRv, o);
        gapBefore = events.size();
      }
      lastRv = 0; // start again from now
      return;
    }
    long rv = Long.parseLong(o.path("metadata").path("resourceVersion").asString("0"));
    lastRv = Math.max(lastRv, rv);
    String ns = o.path("metadata").path("namespace").asString("");
    if (!namespaces.contains(ns) || type.equals("BOOKMARK")) {
      return;
    }
    synchronized (this) {
      events.add(
          new Event(events.size(), ns, type, o.path("metadata").path("name").asString(), rv, o));
      notifyAll();
    }
  }

  /** The newest version seen (of any namespace's ConfigMaps). */
  long newest() {
    return lastRv;
  }

  synchronized List<Event> events() {
    return List.copyOf(events);
  }

  synchronized int size() {
    return events.size();
  }

  /** Whether the history is continuous from index {@code from} on. */
  synchronized boolean continuousFrom(int from) {
    return from >= gapBefore;
  }

  /** The event of {@code namespace/name} at version {@code rv}, if the history has it. */
  synchronized Event find(String namespace, String name, long rv) {
    for (int i = events.size() - 1; i >= 0; i--) {
      Event e = events.get(i);
      if (e.rv() == rv && e.name().equals(name) && e.namespace().equals(namespace)) {
        return e;
      }
      if (e.rv() < rv) {
        break;
      }
    }
    return null;
  }

  /** Waits until the history holds version {@code rv} or a later one (at most {@code ms}). */
  synchronized boolean awaitVersion(long rv, long ms) {
    long end = System.currentTimeMillis() + ms;
    while (lastRv < rv) {
      long left = end - System.currentTimeMillis();
      if (left <= 0) {
        return false;
      }
      try {
        wait(Math.min(left, 50));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    KubeHttp.WatchStream w = stream;
    if (w != null) {
      w.close();
    }
  }
}
