#!/usr/bin/env bash
# dist.sh VERSION LDFLAGS builds static, versioned binaries of assistd and
# assist for linux/amd64 into dist/soteai-gateway-VERSION-linux-amd64/, with
# the systemd unit, the example configuration and the install guide, and
# packs them into a tarball with SHA256SUMS. assistd links PocketSphinx
# (cgo) statically from Debian's libpocketsphinx-dev; DIST_DIR (default
# dist) is where they go.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

version=${1:?usage: dist.sh VERSION LDFLAGS}
ldflags=${2:?usage: dist.sh VERSION LDFLAGS}
name=soteai-gateway-$version-linux-amd64
dist=${DIST_DIR:-dist}
out=$dist/$name
rm -rf "$out" "$dist/$name.tar.gz"
mkdir -p "$out"
CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -trimpath -tags netgo,osusergo \
  -ldflags "$ldflags -linkmode external -extldflags '-static -lm -lpthread'" -o "$out/assistd" ./cmd/assistd
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "$ldflags" -o "$out/assist" ./cmd/assist
cp assistd.example.yaml deploy/systemd/assistd.service docs/install-debian.md "$out/"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dist" -czf "$dist/$name.tar.gz" "$name"
(cd "$dist" && sha256sum "$name.tar.gz" "$name/assistd" "$name/assist" >"$name.SHA256SUMS")
echo "[dist] $dist/$name.tar.gz ($("$out/assistd" -version))"
