#!/usr/bin/env bash
# Builds an OCI image (image-layout tarball) for edge pods whose clients are written in Python: the
# edge image of scripts/build-edge-image.sh (busybox + kubectl) with a second layer holding
# Debian's python3 and python3-kubernetes, taken from this machine's installed packages and their
# dependencies (installed first when missing). No registry or network is needed beyond apt.
#
# Usage: scripts/build-python-image.sh [OUTPUT.tar] [IMAGE_NAME]
#   OUTPUT.tar  default ${KEDGE_CACHE:-~/.cache/kedge}/images/python-kubernetes.tar
#   IMAGE_NAME  default localhost/kedge/python-kubernetes:1
# Import with: ctr -a /run/containerd/containerd.sock -n k8s.io images import OUTPUT.tar
# or push it: skopeo copy oci-archive:OUTPUT.tar docker://REGISTRY/NAME:TAG
set -euo pipefail
say() { printf '[python-image] %s\n' "$*" >&2; }
die() { printf '[python-image] error: %s\n' "$*" >&2; exit 1; }

CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
OUT=${1:-$CACHE/images/python-kubernetes.tar}
NAME=${2:-localhost/kedge/python-kubernetes:1}
here=$(cd "$(dirname "$0")" && pwd)

"$here/install-packages.sh" python3 python3-kubernetes
base=$CACHE/images/edge-tools.tar
[ -f "$base" ] || "$here/build-edge-image.sh" "$base"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The packages python3-kubernetes needs at run time, as installed here: each dependency's first
# installed alternative, recursively. Packaging tools (dpkg, debconf, tar, perl) stay out.
declare -A seen=([dpkg]=skip [debconf]=skip [tar]=skip [perl-base]=skip)
queue=(python3 python3-kubernetes)
packages=()
while [ ${#queue[@]} -gt 0 ]; do
  p=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${seen[$p]:-}" ] && continue
  seen[$p]=1
  packages+=("$p")
  deps=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$p")
  IFS=',' read -ra groups <<<"$deps"
  for g in "${groups[@]}"; do
    IFS='|' read -ra alternatives <<<"$g"
    for a in "${alternatives[@]}"; do
      n=$(printf '%s' "$a" | sed -E 's/\(.*\)//; s/\[.*\]//; s/:any//; s/[[:space:]]//g')
      [ -n "$n" ] || continue
      if installed "$n"; then queue+=("$n"); break; fi
    done
  done
done
say "${#packages[@]} packages: ${packages[*]}"

work=$(mktemp -d -t kedge-python-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The layer: every file the packages installed, at the path the package names (directories that
# are symbolic links on this merged-/usr host become directories, links to files become files).
for p in "${packages[@]}"; do dpkg-query -L "$p"; done | sort -u | while IFS= read -r f; do
  [ -e "$f" ] && printf '%s\n' "${f#/}"
done >"$work/files"
tar -C / --dereference --no-recursion --sort=name --mtime='2026-01-01 00:00:00' --owner=0 \
  --group=0 --numeric-owner -cf "$work/layer.tar" -T "$work/files"

mkdir -p "$work/layout"
tar -C "$work/layout" -xf "$base"
python3 - "$work/layout" "$work/layer.tar" "$NAME" <<'EOF'
import hashlib, json, os, shutil, sys
layout, layer, name = sys.argv[1:4]
blobs = os.path.join(layout, "blobs", "sha256")

def blob(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    d = h.hexdigest()
    shutil.move(path, os.path.join(blobs, d))
    return d, os.path.getsize(os.path.join(blobs, d))

def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d, len(data)

def read(digest):
    with open(os.path.join(blobs, digest.split(":", 1)[1])) as f:
        return json.load(f)

index = json.load(open(os.path.join(layout, "index.json")))
manifest = read(index["manifests"][0]["digest"])
config = read(manifest["config"]["digest"])
layer_digest, layer_size = blob(layer)
config["rootfs"]["diff_ids"].append("sha256:" + layer_digest)
config.setdefault("history", []).append({"created_by": "kedge scripts/build-python-image.sh"})
config_digest, config_size = put(config)
manifest["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": "sha256:" + config_digest, "size": config_size}
manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                           "digest": "sha256:" + layer_digest, "size": layer_size})
manifest_digest, manifest_size = put(manifest)
index["manifests"] = [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + manifest_digest, "size": manifest_size,
                       "annotations": {"io.containerd.image.name": name,
                                       "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]
json.dump(index, open(os.path.join(layout, "index.json"), "w"), separators=(",", ":"))
EOF

mkdir -p "$(dirname "$OUT")"
tar -C "$work/layout" -cf "$OUT.tmp" oci-layout index.json blobs
mv "$OUT.tmp" "$OUT"
say "built $NAME → $OUT ($(du -h "$OUT" | cut -f1))"
