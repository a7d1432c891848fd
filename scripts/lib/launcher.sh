# Shared by bin/*: finds the checkout, builds Kedge's jars when they are missing, runs a program.
# shellcheck shell=bash
KEDGE_HOME=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
export KEDGE_HOME

# kedge_jar MODULE → path of the module's runnable jar, building the project first if needed.
kedge_jar() {
  local jar="$KEDGE_HOME/$1/target/kedge-$1-all.jar"
  if [ ! -f "$jar" ]; then
    echo "[kedge] $1 is not built yet; building the project (mvn package, about a minute)..." >&2
    (cd "$KEDGE_HOME" && mvn -B -q -ntp -DskipTests -DskipITs -Dspotless.check.skip=true package >&2) \
      || { echo "[kedge] error: the build failed; run 'mvn -DskipTests -DskipITs package' in $KEDGE_HOME to see why" >&2; exit 1; }
  fi
  printf '%s' "$jar"
}

# kedge_java → the java binary (JAVA_HOME if set).
kedge_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    printf '%s' "$JAVA_HOME/bin/java"
  else
    printf 'java'
  fi
}

# kedge_edge_jvm_flags JAVA → edgecore's JVM flags (also used by the benchmarks that measure them).
# Heap: the live set with 1,000 cached objects is ~9 MB; a small young generation and low free
# ratios keep the committed (resident) heap near it instead of growing towards -Xmx.
# JIT: tiered up to C2. MetaServer answers ~3x faster than with C1 alone (TLS and JSON get C2's
# intrinsics); C2's compiler arenas go back to the OS through the periodic trim and at most two
# malloc arenas (bin/edgecore sets MALLOC_ARENA_MAX), which keeps the cost at ~10 MiB
# (BENCHMARKS.md, "edge JIT"). To trade that speed for memory, set KEDGE_JAVA_OPTS to these flags
# plus -XX:TieredStopAtLevel=1. Netty's leak detector is off: it records a stack trace for one
# buffer in 128, hundreds a second under load, for reports nobody reads on a node.
# The native-heap trim came with Java 17.0.9: older 17s ignore it (-XX:+IgnoreUnrecognizedVMOptions,
# which spares every start a probe of the JVM; it applies to these defaults only, since
# KEDGE_JAVA_OPTS replaces them). JAVA is unused and kept for callers.
kedge_edge_jvm_flags() {
  printf '%s' "-Xms8m -Xmx48m -XX:MaxNewSize=4m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=32m -XX:MaxMetaspaceSize=64m -XX:MaxDirectMemorySize=16m -Xss512k -XX:+ExitOnOutOfMemoryError -Dio.netty.allocator.type=unpooled -Dio.netty.leakDetection.level=disabled -XX:+IgnoreUnrecognizedVMOptions -XX:TrimNativeHeapInterval=1000"
}

# kedge_cloud_jvm_flags → cloudcore's JVM flags when KEDGE_JAVA_OPTS is unset.
# Heap: what cloudcore keeps is its informers' objects and a session per edge (live after a full
# GC: ~55 MiB with 11 edges and a few thousand cluster objects; 35 MiB with 1,000 edges and 87 MiB
# with 5,000 in the CloudHub benchmark). The serial collector and low free ratios keep the
# committed heap near that live set instead of near -Xmx; -Xmx512m is the limit (a few thousand
# edges); more edges or a larger cluster need KEDGE_JAVA_OPTS with a larger -Xmx (BENCHMARKS.md,
# "Footprint"). JIT: tiered up to C2 (the DynamicController's throughput), its arenas trimmed as on
# the edge.
kedge_cloud_jvm_flags() {
  printf '%s' "-Xms32m -Xmx512m -XX:MaxNewSize=24m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=192m -Xss512k -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled -XX:+IgnoreUnrecognizedVMOptions -XX:TrimNativeHeapInterval=1000"
}

# kedge_serves ARGS... → whether the program runs as the service with these arguments (not just
# printing its help, version or default configuration, whose classes make no useful archive).
kedge_serves() {
  local a
  for a in "$@"; do
    case "$a" in -h | --help | -V | --version | --defaultconfig) return 1 ;; esac
  done
  return 0
}

# kedge_cds_run FILE → "PID STARTED" of the run that archives into FILE
# (NAME-KEY.PID.STARTED.jsa.tmp, or its mark FILE.skip).
kedge_cds_run() {
  local f=${1%.skip} started
  f=${f%.jsa.tmp}
  started=${f##*.}
  f=${f%.*}
  printf '%s %s' "${f##*.}" "$started"
}

# kedge_cds_flags NAME JAVA JAR → JVM flags for an application class-data sharing archive of the
# classes NAME loads from JAR (startup: classes come parsed and verified from a mapped file).
# The archive is made by the program itself: a start without one adds -XX:ArchiveClassesAtExit
# (the JVM writes the classes it loaded when it exits, also on SIGTERM) into a file named after
# the process, and -Dkedge.cds.dump=FILE (a run that joined or rotated credentials loaded classes
# no later start needs, so it writes FILE.skip and its file is dropped: every archived class stays
# resident in every start that maps the archive); the next start checks that file with
# -Xshare:on, which fails on an archive the JVM cannot map (one killed while writing it is torn
# and would crash the JVM that maps it, or has no header yet, which a JVM ignores silently: kept,
# it would stand in for a working archive until an upgrade), and uses it from then on. The name carries a key of the jar and the JVM, so an
# upgrade of either starts a new archive and the stale one is removed; the JVM refuses an archive
# that does not match its class path by itself and runs without. A JVM without the JDK's own
# archive (lib/server/classes.jsa) gets no flags: it refuses to start with ArchiveClassesAtExit.
# KEDGE_CDS=off turns this off; KEDGE_CDS_DIR says where archives go (default: next to the jar).
kedge_cds_flags() {
  local name=$1 java=$2 jar=$3 dir real lib key archive t pid started
  [ "${KEDGE_CDS:-on}" != off ] || return 0
  dir=${KEDGE_CDS_DIR:-$(dirname "$jar")}
  mkdir -p "$dir" 2>/dev/null || return 0
  [ -w "$dir" ] || return 0
  real=$(readlink -f "$(command -v "$java")") || return 0
  [ -f "${real%/bin/java}/lib/server/classes.jsa" ] || return 0
  lib="${real%/bin/java}/lib/server/libjvm.so"
  [ -f "$lib" ] || lib=$real
  key=$(stat -L -c '%n %s %Y' "$lib" "$jar" 2>/dev/null | cksum | cut -d' ' -f1) || return 0
  archive="$dir/$name-$key.jsa"
  if [ ! -s "$archive" ]; then
    for t in "$dir/$name-$key".*.jsa.tmp; do
      [ -f "$t" ] || continue
      read -r pid started <<<"$(kedge_cds_run "$t")"
      if kill -0 "$pid" 2>/dev/null; then
        continue # still running: its archive is written when it exits
      fi
      if [ -e "$t.skip" ]; then
        # The run said it did what a start does not (a join): its classes would all stay resident.
        rm -f "$t" "$t.skip"
        continue
      fi
      # Only from a run that served for a minute: one that stopped at once (a configuration
      # error) archived too few classes, and would stand in for the program's until an upgrade.
      if [ ! -s "$archive" ] && [ $(($(stat -c %Y "$t") - started)) -ge 60 ] \
        && "$java" -Xshare:on -XX:SharedArchiveFile="$t" -cp "$jar" -version >/dev/null 2>&1; then
        mv -f "$t" "$archive" 2>/dev/null || true
      else
        rm -f "$t"
      fi
    done
  fi
  if [ -s "$archive" ]; then
    printf '%s' "-XX:SharedArchiveFile=$archive"
    return 0
  fi
  for t in "$dir/$name"-*.jsa; do
    [ "$t" = "$archive" ] || rm -f "$t"
  done
  for t in "$dir/$name"-*.jsa.tmp.skip; do
    [ -f "$t" ] && [ ! -e "${t%.skip}" ] || continue
    read -r pid started <<<"$(kedge_cds_run "$t")"
    kill -0 "$pid" 2>/dev/null || rm -f "$t" # its run ended without writing an archive
  done
  t="$dir/$name-$key.$$.$(date +%s).jsa.tmp"
  printf '%s' "-XX:ArchiveClassesAtExit=$t -Dkedge.cds.dump=$t"
}
