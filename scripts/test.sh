#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds the control plane once (cached),
# then builds Kedge and runs every unit, integration and end-to-end test. Benchmarks are not run
# here (mvn -Pbench, see BENCHMARKS.md).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
echo "[test] mvn verify (unit tests, then *IT integration and end-to-end tests)" >&2
exec mvn -B -ntp verify "$@"
