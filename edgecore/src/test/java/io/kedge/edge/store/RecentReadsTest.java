package io.kedge.edge.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RecentReadsTest {
  static final Gvr CM = Gvr.core("configmaps");

  static StoredObject object(String name, int bytes) {
    return new StoredObject(
        CM, "a", name, "u", 1, "x".repeat(bytes).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void keepsWhatWasReadUntilTheNextCommit() {
    RecentReads r = new RecentReads(1 << 20);
    StoredObject o = object("c1", 100);
    r.put(o, r.generation());
    assertThat(r.get(CM, "a/c1")).isSameAs(o);
    assertThat(r.get(CM, "a/c2")).isNull();
    assertThat(r.get(Gvr.core("secrets"), "a/c1")).isNull();
    r.committed();
    assertThat(r.get(CM, "a/c1")).isNull();
  }

  @Test
  void anObjectReadWhileAWriteCommittedIsNotKept() {
    RecentReads r = new RecentReads(1 << 20);
    long before = r.generation(); // the reader starts its read
    r.committed(); // a write commits meanwhile; what the reader got may be the old version
    r.put(object("c1", 100), before);
    assertThat(r.get(CM, "a/c1")).isNull();
    assertThat(r.size()).isZero();
  }

  @Test
  void staysWithinItsBytes() {
    RecentReads r = new RecentReads(10_000);
    for (int i = 0; i < 100; i++) {
      r.put(object("c" + i, 300), r.generation());
      assertThat(r.size()).isLessThanOrEqualTo(10_000 / 500);
    }
    // objects larger than a sixteenth of the bound are not kept at all
    r.put(object("big", 1_000), r.generation());
    assertThat(r.get(CM, "a/big")).isNull();
  }

  @Test
  void replacingAnEntryCountsItsBytesOnce() {
    RecentReads r = new RecentReads(10_000);
    for (int i = 0; i < 100; i++) {
      r.put(object("same", 400), r.generation());
    }
    r.put(object("other", 400), r.generation());
    assertThat(r.size()).isEqualTo(2);
  }
}
