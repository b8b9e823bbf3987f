#!/usr/bin/env bash
# image.sh VERSION builds an OCI image of the gateway from the static
# binaries of `make dist`, without a container engine: one layer holding the
# two binaries, the CA bundle and a non-root user, written as an OCI image
# layout under dist/oci (load it with `skopeo copy oci:dist/oci:VERSION
# docker-daemon:…` or push it with `skopeo copy … docker://registry/…`).
# The image runs as uid 65532 and needs no writable root filesystem.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

version=${1:?usage: image.sh VERSION}
bin=dist/soteai-gateway-$version-linux-amd64
[ -x "$bin/assistd" ] || { echo "image.sh: run make dist first" >&2; exit 1; }
out=dist/oci
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/etc/soteai" "$root/tmp"
chmod 1777 "$root/tmp"
install -m 0755 "$bin/assistd" "$bin/assist" "$root/usr/local/bin/"
install -m 0644 assistd.example.yaml "$root/etc/soteai/assistd.example.yaml"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"

rm -rf "$out"
mkdir -p "$out/blobs/sha256"
blob() { # blob FILE -> prints "digest size", stores the blob
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  cp "$1" "$out/blobs/sha256/$d"
  echo "$d $s"
}
read -r layer_digest layer_size < <(blob "$work/layer.tar.gz")
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"$created",
 "config":{"User":"65532:65532","Entrypoint":["/usr/local/bin/assistd"],"Cmd":["-config","/etc/soteai/assistd.yaml"],
  "Env":["PATH=/usr/local/bin:/usr/bin:/bin","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
  "ExposedPorts":{"8080/tcp":{}},"WorkingDir":"/",
  "Labels":{"org.opencontainers.image.title":"soteai-gateway","org.opencontainers.image.version":"$version"}},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created":"$created","created_by":"scripts/image.sh"}]}
JSON
read -r config_digest config_size < <(blob "$work/config.json")
cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_digest","size":$config_size},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer_digest","size":$layer_size}]}
JSON
read -r manifest_digest manifest_size < <(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
cat >"$out/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest_digest","size":$manifest_size,
  "annotations":{"org.opencontainers.image.ref.name":"$version"}}]}
JSON
echo "[image] $out (tag $version, manifest sha256:$manifest_digest)"
