package io.kedge.edge.metaserver;

import io.kedge.edge.metamanager.MetaManager;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.JsonNode;

/** A MetaServer on a free loopback port with a real store and a {@link FakeCloud}. */
final class MetaServerRig implements AutoCloseable {
  final FakeCloud cloud = new FakeCloud();
  final SqliteStore store;
  final ResourceCatalog catalog;
  final MetaServer server;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> streams = new ArrayList<>();
  private final AtomicReference<Gvr> racedType = new AtomicReference<>();
  private volatile Runnable race;

  /** Changes MetaServer handed to the store's writer ({@code apply} calls). */
  final java.util.concurrent.atomic.AtomicInteger applies =
      new java.util.concurrent.atomic.AtomicInteger();

  MetaServerRig(Path dir) {
    this(
        dir,
        MetaServerSettings.defaults("edge-1")
            .withPort(0)
            .withBookmarkInterval(Duration.ofMillis(300)));
  }

  MetaServerRig(Path dir, MetaServerSettings settings) {
    this(dir, settings, header -> io.kedge.edge.auth.Authenticator.Authentication.anonymous());
  }

  /** With {@code authenticator} and every request allowed. */
  MetaServerRig(
      Path dir, MetaServerSettings settings, io.kedge.edge.auth.Authenticator authenticator) {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false));
    catalog = new ResourceCatalog(store);
    MetaManager metaManager = new MetaManager(store, catalog);
    cloud.downstream = metaManager;
    server =
        new MetaServer(
            settings,
            served(store),
            catalog,
            cloud.link,
            authenticator,
            attributes -> io.kedge.edge.auth.Authorizer.Decision.ALLOW,
            ServerTls.plain());
    metaManager.onWatchProgress(server::watchProgress);
    metaManager.onWatchStopped(server::watchStopped);
    metaManager.onlyFromTheirWatch(server::fedByWatch);
    server.start();
  }

  /**
   * Runs {@code r} once, right after MetaServer next reads the state of {@code type} from the store
   * (and before it uses what it read): a change committed in that moment.
   */
  void afterNextStateRead(Gvr type, Runnable r) {
    race = r;
    racedType.set(type);
  }

  /** The store as MetaServer sees it: the same, with {@link #afterNextStateRead}. */
  private ObjectStore served(ObjectStore s) {
    return (ObjectStore)
        Proxy.newProxyInstance(
            ObjectStore.class.getClassLoader(),
            new Class<?>[] {ObjectStore.class},
            (proxy, m, args) -> {
              if (m.getName().equals("apply")) {
                applies.incrementAndGet();
              }
              Object out;
              try {
                out = m.invoke(s, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              Gvr raced = racedType.get();
              if (m.getName().equals("resourceState")
                  && args[0].equals(raced)
                  && racedType.compareAndSet(raced, null)) {
                race.run();
              }
              return out;
            });
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + pathAndQuery);
  }

  HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> send(String method, String pathAndQuery, String contentType, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(pathAndQuery))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) {
    return Json.parse(r.body());
  }

  /** An open watch stream: its events as they arrive. */
  final class Stream implements AutoCloseable {
    final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    final HttpResponse<InputStream> response;
    final Thread reader;
    volatile boolean ended;

    Stream(String pathAndQuery, String... headers) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).GET();
      for (int i = 0; i < headers.length; i += 2) {
        b.header(headers[i], headers[i + 1]);
      }
      response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    if (!line.isBlank()) {
                      events.add(Json.parse(line));
                    }
                  }
                } catch (IOException e) {
                  // closed
                } finally {
                  ended = true;
                }
              },
              "watch-reader");
      reader.setDaemon(true);
      reader.start();
      streams.add(this);
    }

    JsonNode next() throws InterruptedException {
      JsonNode e = events.poll(20, TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("no watch event within 20 s");
      }
      return e;
    }

    /** The next {@code n} events that are not bookmarks, each as "TYPE name". */
    List<String> nextChanges(int n) throws InterruptedException {
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        JsonNode e = nextChange();
        seen.add(
            e.path("type").asString()
                + " "
                + e.path("object").path("metadata").path("name").asString());
      }
      return seen;
    }

    /** The next event that is not a bookmark. */
    JsonNode nextChange() throws InterruptedException {
      while (true) {
        JsonNode e = next();
        if (!"BOOKMARK".equals(e.path("type").asString())) {
          return e;
        }
      }
    }

    @Override
    public void close() {
      try {
        response.body().close();
      } catch (IOException e) {
        // closed
      }
    }
  }

  /**
   * With the link down, the cloud changes ConfigMap c1, deletes c2 and creates c3 in namespace a
   * without telling the edge; then the link comes back.
   */
  void changeWhileAway() {
    cloud.link.setConnected(false);
    cloud.putQuietly("a", "c1", "k", "changed-while-away");
    cloud.deleteQuietly("a", "c2");
    cloud.putQuietly("a", "c3", "k", "new");
    cloud.link.setConnected(true);
  }

  Stream watch(String pathAndQuery, String... headers) throws Exception {
    return new Stream(pathAndQuery, headers);
  }

  @Override
  public void close() {
    for (AutoCloseable s : streams) {
      try {
        s.close();
      } catch (Exception e) {
        // closing anyway
      }
    }
    server.close();
    store.close();
  }
}
