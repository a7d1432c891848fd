#!/usr/bin/env bash
# The main job (README): installs what is missing, builds the control plane once (cached), builds
# Kedge, then runs `keadm quickstart`.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
echo "[quickstart] building Kedge (mvn package)" >&2
mvn -B -q -ntp -DskipTests -DskipITs -Dspotless.check.skip=true package
exec "$root/bin/keadm" quickstart "$@"
