package io.kedge.testkit.diff;

import io.kedge.testkit.diff.Step.Between;
import io.kedge.testkit.diff.Step.ReadKind;
import io.kedge.testkit.diff.Step.Token;
import io.kedge.testkit.diff.Step.Version;
import io.kedge.testkit.diff.Step.WriteKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A random schedule of operations, made from a seed alone ({@code java.util.Random(seed)}): the
 * same seed gives the same steps, so a failing schedule is replayed by its seed. Every schedule
 * starts from the same state (both namespaces' pods in their slots, every RoleBinding in place, the
 * link up, edgecore running) and ends with the link up, every watch compared and a checkpoint.
 */
public record Schedule(long seed, List<Step> steps) {

  /** Pod slots per namespace: two writers, a reader, one without rights. */
  public static final int SLOTS = 4;

  /** The service account of each slot. */
  public static final List<String> SLOT_ACCOUNTS = List.of("writer", "writer", "reader", "nobody");

  static final List<String> NAMES = List.of("cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5");

  static final List<String> LABEL_SELECTORS =
      List.of(
          "",
          "",
          "",
          "app=a",
          "app!=a",
          "app in (a,b)",
          "tier",
          "!tier",
          "app=b,tier=x",
          "tier notin (x)");

  /** {@code $ns} stands for the namespace's name. */
  static final List<String> FIELD_SELECTORS =
      List.of(
          "", "", "", "", "metadata.name=cm-1", "metadata.name!=cm-2", "metadata.namespace=$ns");

  public static Schedule generate(long seed, int length) {
    return new Generator(seed).run(length);
  }

  /** The steps, numbered, one a line. */
  public String describe() {
    StringBuilder b = new StringBuilder("schedule " + seed + ":\n");
    for (int i = 0; i < steps.size(); i++) {
      b.append(String.format("  %3d  %s%n", i + 1, steps.get(i)));
    }
    return b.toString();
  }

  private static final class Generator {
    private final long seed;
    private final Random r;
    private final boolean[][] alive = new boolean[2][SLOTS];
    private final boolean[][] previous = new boolean[2][SLOTS];
    private final boolean[][] bound = {{true, true}, {true, true}}; // writer, reader
    private final List<Integer> open = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private int nextWatch = 1;
    private boolean cut;
    private int at; // index of the step being made
    private int cutEnd; // while cut: the index at which the link is restored

    Generator(long seed) {
      this.seed = seed;
      // java.util.Random's first draws from nearby seeds are nearly equal (its seed scrambling is
      // one multiply and xor): consecutive seeds made the same fault decisions, so a whole run
      // killed edgecore in every schedule or in almost none. The seed is mixed first (SplitMix64's
      // finalizer) so that each schedule decides on its own.
      this.r = new Random(mix(seed));
      for (boolean[] a : alive) {
        java.util.Arrays.fill(a, true);
      }
    }

    Schedule run(int length) {
      // Faults are placed first: at most one kill and one cut period per schedule. Every fifth
      // seed kills edgecore and every third cuts the link (every other cut silently), so that any
      // run of consecutive seeds has its share of both.
      int kill =
          r.nextDouble() < 0.1 || seed % 5 == 0 ? 1 + r.nextInt(Math.max(1, length - 2)) : -1;
      int cutAt =
          r.nextDouble() < 0.2 || seed % 3 == 0 ? 1 + r.nextInt(Math.max(1, length - 4)) : -1;
      int cutFor = 2 + r.nextInt(5);
      boolean silent = r.nextBoolean() || (seed / 3) % 2 == 0;
      if (kill >= 0 && cutAt >= 0 && (kill == cutAt || kill == cutAt + cutFor)) {
        kill = kill + 1 < length ? kill + 1 : kill - 1; // not lost to the cut's own steps
      }
      for (int i = 0; i < length; i++) {
        at = i;
        if (i == cutAt && !cut) {
          steps.add(new Step.Cut(silent));
          cut = true;
          cutEnd = i + cutFor;
          continue;
        }
        if (cut && i >= cutEnd) {
          steps.add(new Step.Restore());
          cut = false;
          continue;
        }
        if (i == kill) {
          steps.add(new Step.KillEdge());
          continue;
        }
        steps.add(next());
      }
      if (cut) {
        steps.add(new Step.Restore());
        cut = false;
      }
      for (int id : List.copyOf(open)) {
        steps.add(new Step.WatchCheck(id));
      }
      open.clear();
      steps.add(new Step.Checkpoint(anyAliveReader(0)));
      return new Schedule(seed, List.copyOf(steps));
    }

    private Step next() {
      while (true) {
        int w = r.nextInt(100);
        Step s;
        if (w < 26) {
          s = write();
        } else if (w < 30) {
          s = burst();
        } else if (w < (cut ? 42 : 35)) {
          s = cloudWrite();
        } else if (w < 58) {
          s = read();
        } else if (w < 63) {
          s = paged();
        } else if (w < 72) {
          s = watchOpen();
        } else if (w < 77) {
          s = watchCheck();
        } else if (w < 83) {
          s = new Step.Checkpoint(anyAliveReader(r.nextInt(2)));
        } else if (w < 89) {
          s = podChange();
        } else if (w < 93) {
          s = binding();
        } else {
          s = read();
        }
        if (s != null) {
          return s;
        }
      }
    }

    private int ns() {
      return r.nextInt(2);
    }

    private String name() {
      return NAMES.get(r.nextInt(NAMES.size()));
    }

    private String app() {
      return r.nextBoolean() ? "a" : "b";
    }

    private String tier() {
      int t = r.nextInt(3);
      return t == 0 ? "" : t == 1 ? "x" : "y";
    }

    private <T> T pick(List<T> l) {
      return l.get(r.nextInt(l.size()));
    }

    /** A slot whose pod exists; mostly writers. */
    private int slot(int ns, boolean writer) {
      List<Integer> c = new ArrayList<>();
      for (int s = 0; s < SLOTS; s++) {
        if (alive[ns][s] && (!writer || s < 2)) {
          c.add(s);
        }
      }
      if (c.isEmpty()) {
        return writer ? slot(ns, false) : r.nextInt(SLOTS);
      }
      return c.get(r.nextInt(c.size()));
    }

    private int anyAliveReader(int ns) {
      for (int s : new int[] {2, 0, 1}) {
        if (alive[ns][s]) {
          return s;
        }
      }
      return 0;
    }

    private Token token(int ns, int slot) {
      return previous[ns][slot] && r.nextInt(5) == 0 ? Token.PREVIOUS : Token.CURRENT;
    }

    private Step write() {
      int ns = ns();
      int slot = r.nextInt(6) == 0 ? r.nextInt(SLOTS) : slot(ns, true);
      WriteKind k = pick(List.of(WriteKind.values()));
      return new Step.Write(ns, slot, token(ns, slot), k, name(), app(), tier());
    }

    private Step burst() {
      int ns = ns();
      return new Step.Burst(ns, slot(ns, true), name(), 10 + r.nextInt(50));
    }

    private Step cloudWrite() {
      return new Step.CloudWrite(
          ns(), pick(List.of(WriteKind.values())), name(), r.nextBoolean() ? "a" : "b");
    }

    private Step read() {
      int ns = r.nextInt(12) == 0 ? -1 : ns();
      int slot = r.nextInt(5) == 0 ? r.nextInt(SLOTS) : slot(Math.max(ns, 0), false);
      boolean get = ns >= 0 && r.nextInt(4) == 0;
      Version v =
          get
              ? pick(List.of(Version.UNSET, Version.ZERO, Version.ZERO, Version.RECENT))
              : pick(
                  List.of(
                      Version.UNSET,
                      Version.UNSET,
                      Version.ZERO,
                      Version.ZERO,
                      Version.ZERO,
                      Version.RECENT,
                      Version.EXACT_RECENT));
      return new Step.Read(
          ns,
          slot,
          token(Math.max(ns, 0), slot),
          get ? ReadKind.GET : ReadKind.LIST,
          v,
          r.nextDouble(),
          name(),
          get ? "" : pick(LABEL_SELECTORS),
          get ? "" : pick(FIELD_SELECTORS));
    }

    private Step paged() {
      int ns = ns();
      Between b =
          cut
              ? (r.nextInt(3) == 0 ? Between.RESTORED : Between.NOTHING)
              : (r.nextInt(4) == 0 ? Between.CUT : Between.NOTHING);
      if (b == Between.RESTORED) {
        cut = false;
      } else if (b == Between.CUT) {
        cut = true;
        cutEnd = at + 2 + r.nextInt(4);
      }
      return new Step.PagedList(
          ns, slot(ns, false), 1 + r.nextInt(3), pick(LABEL_SELECTORS.subList(0, 6)), b);
    }

    private Step watchOpen() {
      if (open.size() >= 4) {
        return null;
      }
      int ns = ns();
      int id = nextWatch++;
      open.add(id);
      Version v =
          pick(
              List.of(
                  Version.LISTED,
                  Version.LISTED,
                  Version.RECENT,
                  Version.RECENT,
                  Version.OLD,
                  Version.VERY_OLD,
                  Version.ZERO,
                  Version.UNSET));
      return new Step.WatchOpen(
          id, ns, slot(ns, false), v, r.nextDouble(), pick(LABEL_SELECTORS), pick(FIELD_SELECTORS));
    }

    private Step watchCheck() {
      if (open.isEmpty()) {
        return null;
      }
      return new Step.WatchCheck(open.remove(r.nextInt(open.size())));
    }

    private Step podChange() {
      if (cut) {
        return null; // the edge cannot hear of it; compared after the link is back instead
      }
      int ns = ns();
      int slot = r.nextInt(SLOTS);
      if (alive[ns][slot]) {
        alive[ns][slot] = false;
        previous[ns][slot] = true;
        return new Step.PodDelete(ns, slot, r.nextInt(3) == 0);
      }
      alive[ns][slot] = true;
      return new Step.PodCreate(ns, slot);
    }

    private Step binding() {
      if (cut) {
        return null;
      }
      int ns = ns();
      int which = r.nextInt(2);
      bound[ns][which] = !bound[ns][which];
      return new Step.Binding(ns, which == 0 ? "writer" : "reader", bound[ns][which]);
    }
  }

  /** SplitMix64's finalizer: spreads nearby seeds over all of {@code long}. */
  static long mix(long seed) {
    long z = seed + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
