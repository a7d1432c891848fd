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
