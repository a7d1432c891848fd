#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler v1.20.2 from Debian's `kubernetes`
# source package with Debian's Go 1.19, offline, and caches the binaries under
# ${KEDGE_CACHE:-~/.cache/kedge}/k8s-v1.20.2/bin. A second run with the cache present does nothing.
#
# Usage: scripts/build-kube.sh [--force]
set -euo pipefail

KUBE_VERSION=v1.20.2
CACHE_ROOT=${KEDGE_CACHE:-$HOME/.cache/kedge}
CACHE_DIR=$CACHE_ROOT/k8s-$KUBE_VERSION
BIN_DIR=$CACHE_DIR/bin
SRC_DIR=$CACHE_DIR/src
LOG=$CACHE_DIR/build.log
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler)
GO_ROOT=/usr/lib/go-1.19

say() { printf '[build-kube] %s\n' "$*" >&2; }
die() { printf '[build-kube] error: %s\n' "$*" >&2; exit 1; }

cached() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
  [ -f "$CACHE_DIR/stamp" ]
}

if [ "${1:-}" != "--force" ] && cached; then
  say "using cached $KUBE_VERSION binaries in $BIN_DIR"
  exit 0
fi

mkdir -p "$CACHE_DIR"
start=$(date +%s)

# --- packages -------------------------------------------------------------------------------------
"$(dirname "$0")/install-packages.sh" etcd-server golang-1.19-go golang-github-modern-go-reflect2-dev \
  golang-github-json-iterator-go-dev dpkg-dev build-essential rsync

# --- source ---------------------------------------------------------------------------------------
if ! ls -d "$SRC_DIR"/kubernetes-*/ >/dev/null 2>&1; then
  if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    say "enabling Debian source packages (/etc/apt/sources.list.d/kedge-src.sources)"
    cat >/etc/apt/sources.list.d/kedge-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -qq >>"$LOG" 2>&1 || die "apt-get update failed: is deb.debian.org reachable? (log: $LOG)"
  fi
  say "fetching Debian source package 'kubernetes' (1.20.5+really1.20.2)"
  rm -rf "$SRC_DIR.tmp" && mkdir -p "$SRC_DIR.tmp"
  (cd "$SRC_DIR.tmp" && apt-get source -qq kubernetes >>"$LOG" 2>&1) \
    || die "apt-get source kubernetes failed: is deb.debian.org reachable? (log: $LOG)"
  rm -rf "$SRC_DIR" && mv "$SRC_DIR.tmp" "$SRC_DIR"
fi
KSRC=$(ls -d "$SRC_DIR"/kubernetes-*/ | head -n1)
KSRC=${KSRC%/}

# --- fixes for Go 1.19 (idempotent) -------------------------------------------------------------
# 1. reflect2 1.0.1 crashes kube-apiserver in map iteration under Go 1.18+; use Debian's 1.0.2 and the
#    json-iterator 1.1.12 that goes with it.
replace_vendored() {
  local pkg=$1 from=/usr/share/gocode/src/$1
  [ -d "$from" ] || die "missing $from (package not installed?)"
  if ! cmp -s "$from/go.mod" "$KSRC/vendor/$pkg/go.mod" 2>/dev/null; then
    say "replacing vendored $pkg with Debian's copy"
    rm -rf "${KSRC:?}/vendor/$pkg"
    mkdir -p "$KSRC/vendor/$pkg"
    rsync -a --exclude '*_test.go' --exclude 'test*' --exclude '.*' "$from/" "$KSRC/vendor/$pkg/"
  fi
}
replace_vendored github.com/modern-go/reflect2
replace_vendored github.com/json-iterator/go
# 2. CRD validation takes "" items as null under Go 1.19 (reflect.DeepEqual of Zero values); only nil is null.
for f in vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go vendor/github.com/go-openapi/validate/type.go; do
  if [ -f "$KSRC/$f" ] && grep -q 'reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))' "$KSRC/$f"; then
    say "patching zero-value check in $f"
    sed -i 's/if data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data)) {/if data == nil {/' "$KSRC/$f"
  fi
done

# --- build ----------------------------------------------------------------------------------------
[ -x "$GO_ROOT/bin/go" ] || die "Go 1.19 not found at $GO_ROOT"
export PATH=$GO_ROOT/bin:$PATH GOPROXY=off GOFLAGS= GO111MODULE=off CGO_ENABLED=0 HOME=$CACHE_DIR/home
export KUBE_GIT_VERSION=$KUBE_VERSION KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20 KUBE_GIT_TREE_STATE=clean \
  KUBE_GIT_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
mkdir -p "$HOME"
what=$(printf 'cmd/%s ' "${BINARIES[@]}")
say "building ${BINARIES[*]} with $(go version | cut -d' ' -f3) (takes ~5 min cold on 2 cores; log: $LOG)"
# In a process group of its own, so that an interrupted script stops the whole build with it.
(cd "$KSRC" && exec setsid make WHAT="${what% }" >>"$LOG" 2>&1) &
pid=$!
trap 'kill -- -"$pid" 2>/dev/null; true' EXIT
# Progress every 15 s: elapsed time, compiled objects in Go's build cache, and the build step.
gocache=$KSRC/_output/local/go/cache
while kill -0 "$pid" 2>/dev/null; do
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 "$pid" 2>/dev/null && sleep 1; done
  kill -0 "$pid" 2>/dev/null || break
  # (the cache and the log lines appear only after code generation: no match is not an error)
  objs=$({ find "$gocache" -name '*-d' 2>/dev/null || true; } | wc -l)
  step=$({ grep -E '^\+\+\+|^    (cmd|\./vendor)/' "$LOG" 2>/dev/null || true; } | tail -n 1 | sed 's/^+++ \[[^]]*\] //; s/^ *//' | cut -c1-70)
  say "building: $(( $(date +%s) - start )) s, $objs objects compiled — $step"
done
wait "$pid" || die "build failed after $(( $(date +%s) - start )) s; see $LOG"
trap - EXIT

mkdir -p "$BIN_DIR"
for b in "${BINARIES[@]}"; do
  install -m 0755 "$KSRC/_output/bin/$b" "$BIN_DIR/$b"
done
"$BIN_DIR/kube-apiserver" --version >"$CACHE_DIR/stamp"
say "built $(cat "$CACHE_DIR/stamp") in $(( $(date +%s) - start )) s → $BIN_DIR"
