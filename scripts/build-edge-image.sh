#!/usr/bin/env bash
# Builds a small OCI image (image-layout tarball, one uncompressed layer) for edge pods and the
# CRI sandbox, without any registry: Debian's busybox-static as /bin, plus kubectl. Default command:
# sleep forever (so the same image serves as containerd's sandbox_image).
#
# Usage: scripts/build-edge-image.sh [OUTPUT.tar] [IMAGE_NAME]
#   OUTPUT.tar  default ${KEDGE_CACHE:-~/.cache/kedge}/images/edge-tools.tar
#   IMAGE_NAME  default localhost/kedge/edge-tools:1
# kubectl comes from $KUBECTL when set, else from Debian's kubernetes-client package (downloaded,
# not installed), else from the kubectl on PATH. Import with:
#   ctr -a /run/containerd/containerd.sock -n k8s.io images import OUTPUT.tar
set -euo pipefail
say() { printf '[edge-image] %s\n' "$*" >&2; }
die() { printf '[edge-image] error: %s\n' "$*" >&2; exit 1; }

CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
OUT=${1:-$CACHE/images/edge-tools.tar}
NAME=${2:-localhost/kedge/edge-tools:1}
here=$(cd "$(dirname "$0")" && pwd)

"$here/install-packages.sh" busybox-static
[ -x /bin/busybox ] || die "/bin/busybox missing after installing busybox-static"

find_kubectl() {
  if [ -n "${KUBECTL:-}" ]; then echo "$KUBECTL"; return; fi
  local deb_dir=$CACHE/kubernetes-client
  if [ ! -x "$deb_dir/usr/bin/kubectl" ]; then
    mkdir -p "$deb_dir"
    if (cd "$deb_dir" && apt-get download -qq kubernetes-client >/dev/null 2>&1); then
      dpkg-deb -x "$(ls "$deb_dir"/kubernetes-client_*.deb | head -n1)" "$deb_dir"
    fi
  fi
  if [ -x "$deb_dir/usr/bin/kubectl" ]; then echo "$deb_dir/usr/bin/kubectl"; return; fi
  command -v kubectl >/dev/null 2>&1 && { readlink -f "$(command -v kubectl)"; return; }
  die "no kubectl: set KUBECTL=/path/to/kubectl"
}
KUBECTL_BIN=$(find_kubectl)
say "kubectl: $KUBECTL_BIN ($("$KUBECTL_BIN" version --client 2>/dev/null | head -n1 || echo '?'))"

work=$(mktemp -d -t kedge-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,usr/bin,etc,tmp,root,home,var/run,proc,sys,dev}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp "$KUBECTL_BIN" "$root/usr/bin/kubectl"
chmod 0755 "$root/usr/bin/kubectl"
# A dynamically linked kubectl brings its libraries along.
if ldd "$KUBECTL_BIN" >/dev/null 2>&1; then
  for lib in $(ldd "$KUBECTL_BIN" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
fi
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF

layout=$work/layout
mkdir -p "$layout/blobs/sha256"
layer=$work/layer.tar
tar --sort=name --mtime='2026-01-01 00:00:00' --owner=0 --group=0 --numeric-owner -C "$root" -cf "$layer" .
layer_sha=$(sha256sum "$layer" | cut -d' ' -f1)
layer_size=$(stat -c %s "$layer")
mv "$layer" "$layout/blobs/sha256/$layer_sha"

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
config=$work/config.json
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sleep","2147483647"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"kedge scripts/build-edge-image.sh"}]}' \
  "$arch" "$layer_sha" >"$config"
config_sha=$(sha256sum "$config" | cut -d' ' -f1)
config_size=$(stat -c %s "$config")
mv "$config" "$layout/blobs/sha256/$config_sha"

manifest=$work/manifest.json
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config_sha" "$config_size" "$layer_sha" "$layer_size" >"$manifest"
manifest_sha=$(sha256sum "$manifest" | cut -d' ' -f1)
manifest_size=$(stat -c %s "$manifest")
mv "$manifest" "$layout/blobs/sha256/$manifest_sha"

printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_sha" "$manifest_size" "$NAME" "${NAME##*:}" >"$layout/index.json"

mkdir -p "$(dirname "$OUT")"
tar -C "$layout" -cf "$OUT.tmp" oci-layout index.json blobs
mv "$OUT.tmp" "$OUT"
say "built $NAME → $OUT ($(du -h "$OUT" | cut -f1))"
