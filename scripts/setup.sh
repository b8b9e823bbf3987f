#!/usr/bin/env bash
# setup.sh installs everything the local stack and the tests need on a Debian
# bookworm machine: apt packages, pgvector (built from Debian's source package),
# the Ollama server (built with go install) and the project's Go modules.
# Slow builds are cached under ${XDG_CACHE_HOME:-$HOME/.cache}/soteai, keyed by
# version, so a second run takes seconds.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
MALGO_VERSION=${MALGO_VERSION:-v0.11.24}
PGVECTOR_VERSION=${PGVECTOR_VERSION:-0.8.0}
CACHE=$SOTEAI_CACHE

log() { printf '[setup] %s\n' "$*" >&2; }

apt_packages=(
  "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev
  nlohmann-json3-dev libstb-dev poppler-utils ca-certificates curl
  # speech engines (recognition, synthesis, conversion)
  pocketsphinx pocketsphinx-en-us libpocketsphinx-dev espeak-ng flite sox
  # headless browser for the page tests; promtool for the alert rules
  chromium prometheus skopeo umoci
)

install_apt() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing apt packages: ${missing[*]}"
    sudo_ apt-get update -qq
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_pgvector() {
  local ext_dir
  ext_dir=$(/usr/lib/postgresql/$PG_MAJOR/bin/pg_config --sharedir)/extension
  if [ -f "$ext_dir/vector.control" ] && [ -f "$(/usr/lib/postgresql/$PG_MAJOR/bin/pg_config --pkglibdir)/vector.so" ]; then
    return
  fi
  local src=$CACHE/pgvector-$PGVECTOR_VERSION
  if [ ! -f "$src/.built" ]; then
    log "building pgvector $PGVECTOR_VERSION from Debian's source package"
    local list=/etc/apt/sources.list.d/trixie-src.list
    if [ ! -f "$list" ]; then
      local mirror
      mirror=$(grep -rhoE '^(deb|URIs:) *[^ ]*debian[^ ]*' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
        | grep -v security | head -1 | awk '{print $NF}' || true)
      mirror=${mirror:-http://deb.debian.org/debian}
      echo "deb-src $mirror trixie main" | sudo_ tee "$list" >/dev/null
      sudo_ apt-get update -qq
    fi
    rm -rf "$src" && mkdir -p "$src"
    (cd "$src" && { apt-get source -qq --download-only "pgvector=$PGVECTOR_VERSION*" >/dev/null 2>&1 \
      || apt-get source -qq --download-only pgvector >/dev/null; })
    (cd "$src" && dpkg-source -x --no-check ./*.dsc tree >/dev/null)
    make -s -C "$src/tree" PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config >/dev/null
    touch "$src/.built"
  fi
  log "installing pgvector into PostgreSQL $PG_MAJOR"
  sudo_ make -s -C "$src/tree" PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config install >/dev/null
}

# install_go installs the Go toolchain go.mod names into the cache, but only
# when no go that can switch toolchains by itself (1.21+) is on PATH.
install_go() {
  local v
  v=$(go env GOVERSION 2>/dev/null || true)
  case $v in
    go1.2[1-9]* | go1.[3-9][0-9]* | go[2-9]*) return ;;
  esac
  local arch
  arch=$(dpkg --print-architecture)
  log "installing Go $GO_VERSION into $GO_DIR (found: ${v:-none})"
  rm -rf "$GO_DIR.tmp" && mkdir -p "$GO_DIR.tmp"
  curl -fsSL "https://go.dev/dl/go$GO_VERSION.linux-$arch.tar.gz" | tar -xz -C "$GO_DIR.tmp" --strip-components=1
  rm -rf "$GO_DIR" && mv "$GO_DIR.tmp" "$GO_DIR"
}

install_ollama() {
  local dir=$OLLAMA_DIR
  # The stamp records how the binary was built; a different recipe rebuilds
  # it (quickly: go's build cache keeps the compiled C++ parts).
  local ldflags="-X=github.com/ollama/ollama/version.Version=${OLLAMA_VERSION#v}"
  local stamp="ollama $OLLAMA_VERSION $ldflags malgo $MALGO_VERSION"
  if [ -x "$dir/bin/ollama" ] && [ "$(cat "$dir/bin/.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  if pgrep -f "go install github.com/ollama/ollama@" >/dev/null 2>&1; then
    log "another ollama build is running; wait for it to finish, then re-run"
    return 1
  fi
  log "building ollama $OLLAMA_VERSION (CPU only, a few minutes, once)"
  mkdir -p "$dir/include"
  cp -r /usr/include/nlohmann "$dir/include/"
  mkdir -p "$dir/include/stb" && cp /usr/include/stb/stb_image.h "$dir/include/stb/"
  local malgo
  malgo=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "github.com/gen2brain/malgo@$MALGO_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$dir/include/miniaudio" && cp "$malgo/miniaudio.h" "$dir/include/miniaudio/"
  rm -rf "$dir/bin.tmp"
  CGO_CPPFLAGS="-I$dir/include" GOBIN="$dir/bin.tmp" go install -ldflags="$ldflags" "github.com/ollama/ollama@$OLLAMA_VERSION"
  # Replace the binary by renaming, so servers running from it keep working.
  mkdir -p "$dir/bin"
  mv -f "$dir/bin.tmp/ollama" "$dir/bin/ollama"
  echo "$stamp" >"$dir/bin/.stamp"
  rm -rf "$dir/bin.tmp"
}

install_go_modules() {
  (cd "$REPO_ROOT" && go mod download)
}

install_apt
install_go
install_pgvector
install_ollama
install_go_modules
log "ready: ollama at $OLLAMA_BIN"
