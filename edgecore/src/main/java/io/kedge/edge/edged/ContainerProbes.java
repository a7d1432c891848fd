package io.kedge.edge.edged;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The probes of one running container instance, with the kubelet's semantics: each probe runs every
 * {@code periodSeconds} from {@code initialDelaySeconds} after the container started; its result
 * changes only after {@code successThreshold} successes or {@code failureThreshold} failures in a
 * row. Until the startup probe succeeds, liveness and readiness do not run; the container counts as
 * not started and not ready. Readiness starts out failed; a container without a readiness probe is
 * ready once started. A liveness or startup probe that reaches its failure threshold asks for the
 * container to be killed ({@link #kill()}) and stops probing: the next instance gets probes of its
 * own.
 *
 * <p>Probes run on the worker pool (they may take up to their timeout), scheduled by the shared
 * timer; the pod's worker reads the results when it syncs and is told when they change.
 */
final class ContainerProbes {

  /** What the pod's worker hears from the probes. */
  interface Listener {
    /** A probe failed (each failure: the kubelet's {@code Unhealthy} event). */
    void failed(ProbeSpec spec, String output);

    /** Started, ready or kill changed: the pod should sync. */
    void changed();
  }

  /** A liveness or startup probe failed for good. */
  record Kill(ProbeSpec spec, String output) {}

  private final String containerId;
  private final Instant startedAt;
  private final Optional<ProbeSpec> startup;
  private final Optional<ProbeSpec> readiness;
  private final Prober prober;
  private final Supplier<String> podIp;
  private final ScheduledExecutorService timer;
  private final ExecutorService workers;
  private final Clock clock;
  private final Listener listener;
  private final List<Loop> loops = new ArrayList<>();

  private volatile boolean started;
  private volatile boolean ready;
  private volatile Kill kill;
  private volatile boolean stopped;

  ContainerProbes(
      String containerId,
      Instant startedAt,
      Optional<ProbeSpec> startup,
      Optional<ProbeSpec> readiness,
      Optional<ProbeSpec> liveness,
      Prober prober,
      Supplier<String> podIp,
      ScheduledExecutorService timer,
      ExecutorService workers,
      Clock clock,
      Listener listener) {
    this.containerId = containerId;
    this.startedAt = startedAt;
    this.startup = startup;
    this.readiness = readiness;
    this.prober = prober;
    this.podIp = podIp;
    this.timer = timer;
    this.workers = workers;
    this.clock = clock;
    this.listener = listener;
    this.started = startup.isEmpty();
    startup.ifPresent(s -> loops.add(new Loop(s)));
    readiness.ifPresent(s -> loops.add(new Loop(s)));
    liveness.ifPresent(s -> loops.add(new Loop(s)));
  }

  /** Whether a container spec has any probe. */
  static boolean any(Optional<ProbeSpec> startup, Optional<ProbeSpec> r, Optional<ProbeSpec> l) {
    return startup.isPresent() || r.isPresent() || l.isPresent();
  }

  String containerId() {
    return containerId;
  }

  void start() {
    for (Loop l : loops) {
      l.schedule(Duration.ZERO);
    }
  }

  void stop() {
    stopped = true;
    for (Loop l : loops) {
      l.cancel();
    }
  }

  /** The startup probe has succeeded (or there is none). */
  boolean started() {
    return started;
  }

  /** Started, and the readiness probe says ready (or there is none). */
  boolean ready() {
    return started && (readiness.isEmpty() || ready);
  }

  /** Set once a liveness or startup probe failed {@code failureThreshold} times in a row. */
  Optional<Kill> kill() {
    return Optional.ofNullable(kill);
  }

  /** One probe's loop. */
  private final class Loop implements Runnable {
    private final ProbeSpec spec;
    private Boolean last;
    private int run;
    private boolean done;
    private ScheduledFuture<?> next;

    Loop(ProbeSpec spec) {
      this.spec = spec;
    }

    synchronized void schedule(Duration in) {
      if (stopped || done) {
        return;
      }
      try {
        next =
            timer.schedule(
                () -> {
                  try {
                    workers.execute(this);
                  } catch (RejectedExecutionException e) {
                    // shutting down
                  }
                },
                Math.max(0, in.toMillis()),
                TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // shutting down
      }
    }

    synchronized void cancel() {
      if (next != null) {
        next.cancel(false);
      }
    }

    @Override
    public void run() {
      if (stopped || done) {
        return;
      }
      if (spec.type() != ProbeSpec.Type.STARTUP && startup.isPresent() && !started) {
        schedule(spec.period()); // liveness and readiness wait for the startup probe
        return;
      }
      Duration since = Duration.between(startedAt, clock.instant());
      if (since.compareTo(spec.initialDelay()) < 0) {
        schedule(spec.initialDelay().minus(since));
        return;
      }
      Prober.Result r = prober.run(spec, containerId, podIp.get());
      if (stopped) {
        return;
      }
      if (!r.success()) {
        listener.failed(spec, r.output());
      }
      run = last != null && last == r.success() ? run + 1 : 1;
      last = r.success();
      boolean decided =
          r.success() ? run >= spec.successThreshold() : run >= spec.failureThreshold();
      if (decided) {
        apply(r);
      }
      schedule(spec.period());
    }

    private void apply(Prober.Result r) {
      boolean changed = false;
      switch (spec.type()) {
        case READINESS -> {
          changed = ready != r.success();
          ready = r.success();
        }
        case STARTUP -> {
          if (r.success()) {
            changed = !started;
            started = true;
            done = true; // a started container is not probed for startup again
          } else {
            kill = new Kill(spec, r.output());
            done = true;
            changed = true;
          }
        }
        case LIVENESS -> {
          if (!r.success()) {
            kill = new Kill(spec, r.output());
            done = true;
            changed = true;
          }
        }
      }
      if (changed) {
        listener.changed();
      }
    }
  }
}
