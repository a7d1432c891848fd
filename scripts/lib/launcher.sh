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
