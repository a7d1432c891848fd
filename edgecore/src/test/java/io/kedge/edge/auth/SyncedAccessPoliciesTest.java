package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

class SyncedAccessPoliciesTest {
  @TempDir Path dir;
  SqliteStore store;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static ObjectNode saa(int rv, boolean granted) {
    ObjectNode o = (ObjectNode) Json.parse(RbacAuthorizerTest.SAA);
    ((ObjectNode) o.get("metadata")).put("resourceVersion", Integer.toString(rv));
    if (!granted) {
      ((ObjectNode) o.get("spec")).putArray("accessRoleBinding");
    }
    return o;
  }

  private void put(ObjectNode saa) {
    store.apply(ObjectChange.upsert(SyncedAccessPolicies.GVR, "ServiceAccountAccess", saa)).join();
  }

  /**
   * A RoleBinding revoked and restored in quick succession: the restoring ServiceAccountAccess is
   * committed while a request is reading the revoked one. The edge must not keep the revoked one
   * (it did, refusing the account until the next RBAC change).
   */
  @Test
  void aChangeCommittedWhileReadingIsNotHiddenByWhatWasRead() {
    put(saa(7, false));
    AtomicReference<Runnable> duringNextList = new AtomicReference<>();
    ObjectStore racing =
        (ObjectStore)
            Proxy.newProxyInstance(
                ObjectStore.class.getClassLoader(),
                new Class<?>[] {ObjectStore.class},
                (proxy, m, args) -> {
                  Object r;
                  try {
                    r = m.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                  if (m.getName().equals("list")
                      && ((Scope) args[0]).gvr().equals(SyncedAccessPolicies.GVR)) {
                    Runnable during = duringNextList.getAndSet(null);
                    if (during != null) {
                      during.run(); // committed after the page was read, before it is cached
                    }
                  }
                  return r;
                });
    SyncedAccessPolicies policies = new SyncedAccessPolicies(racing);
    duringNextList.set(() -> put(saa(9, true)));

    assertThat(policies.forServiceAccount("demo", "reader").roleBindings())
        .as("read before the restoring object was committed")
        .isEmpty();
    assertThat(policies.forServiceAccount("demo", "reader").roleBindings())
        .as("after it was committed")
        .hasSize(1);
  }

  @Test
  void readsAreCachedUntilAServiceAccountAccessChanges() {
    put(saa(7, true));
    int[] lists = {0};
    ObjectStore counting =
        (ObjectStore)
            Proxy.newProxyInstance(
                ObjectStore.class.getClassLoader(),
                new Class<?>[] {ObjectStore.class},
                (proxy, m, args) -> {
                  if (m.getName().equals("list")) {
                    lists[0]++;
                  }
                  try {
                    return m.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    SyncedAccessPolicies policies = new SyncedAccessPolicies(counting);
    policies.get();
    policies.get();
    assertThat(lists[0]).isEqualTo(1);
    put(saa(8, false));
    assertThat(policies.forServiceAccount("demo", "reader").roleBindings()).isEmpty();
    policies.get();
    assertThat(lists[0]).isEqualTo(2);
  }
}
