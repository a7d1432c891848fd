#!/usr/bin/env bash
# Everything Kedge needs on a fresh Debian 12 machine (run as root): Java 17 and Maven when missing,
# the Debian packages the control plane uses, and the control-plane binaries (built once, cached in
# ~/.cache/kedge), and keadm, cloudcore, edgecore on the PATH (links in /usr/local/bin). Safe to run
# again: what is present is reused.
# What the tests run besides: kubectl (kubernetes-client, when no kubectl is on the PATH), curl,
# /usr/bin/python3 with python3-kubernetes, ip (iproute2), unshare and nsenter (util-linux), prometheus
# (the metrics e2e starts its own on loopback); the
# CRI tests install containerd, runc and busybox-static themselves. With CI=true a test that misses
# one of these fails instead of skipping itself (testkit Prerequisites).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
pkgs=()
command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
command -v curl >/dev/null 2>&1 || pkgs+=(curl)
command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
command -v kubectl >/dev/null 2>&1 || pkgs+=(kubernetes-client)
"$here/install-packages.sh" "${pkgs[@]}" etcd-server iproute2 util-linux python3-kubernetes prometheus
"$here/build-kube.sh"
# keadm, cloudcore and edgecore where users type them: the hints Kedge prints say `keadm ...`. The
# links point at this checkout's launchers (bin/), which build Kedge on first use. KEDGE_BIN_DIR
# picks another directory on the PATH.
bindir=${KEDGE_BIN_DIR:-/usr/local/bin}
mkdir -p "$bindir"
for c in keadm cloudcore edgecore; do
  ln -sfn "$(dirname "$here")/bin/$c" "$bindir/$c"
done
echo "[setup] keadm, cloudcore, edgecore linked into $bindir" >&2
