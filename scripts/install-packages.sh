#!/usr/bin/env bash
# Installs the named Debian packages when any is missing; one clear line when apt cannot reach its
# archive. KEDGE_APT_OPTS adds options to every apt-get call (e.g. a proxy).
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "[packages] error: root is needed to install: ${missing[*]}" >&2; exit 1; }
echo "[packages] installing ${missing[*]}" >&2
log=$(mktemp -t kedge-apt.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
read -r -a opts <<<"${KEDGE_APT_OPTS:-}"
unreachable='Could not resolve|Could not connect|Failed to fetch|Temporary failure|Unable to connect|Connection refused|Network is unreachable'
if ! apt-get "${opts[@]}" update -qq >"$log" 2>&1 || grep -qE "$unreachable" "$log"; then
  echo "[packages] error: apt cannot reach the Debian archive to install ${missing[*]} (log: $log)" >&2
  exit 1
fi
if ! apt-get "${opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  if grep -qE "$unreachable" "$log"; then
    echo "[packages] error: apt cannot reach the Debian archive to install ${missing[*]} (log: $log)" >&2
  else
    echo "[packages] error: apt-get install ${missing[*]} failed (log: $log)" >&2
  fi
  exit 1
fi
rm -f "$log"
