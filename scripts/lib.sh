# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this
# lib.sh holds the settings and helpers shared by the project's scripts.
# It is sourced, not run.

OLLAMA_VERSION=${OLLAMA_VERSION:-v0.17.4}
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
SOTEAI_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/soteai
OLLAMA_DIR=$SOTEAI_CACHE/ollama-$OLLAMA_VERSION
OLLAMA_BIN=$OLLAMA_DIR/bin/ollama
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# GO_VERSION is the toolchain go.mod asks for; setup.sh installs it into the
# cache only when no usable go is on PATH.
GO_VERSION=$(awk '$1 == "go" {print $2; exit}' "$REPO_ROOT/go.mod")
GO_DIR=$SOTEAI_CACHE/go-$GO_VERSION
case ":$PATH:" in *":$GO_DIR/bin:"*) ;; *) PATH=$GO_DIR/bin:$PATH ;; esac
export PATH

is_root() { [ "$(id -u)" -eq 0 ]; }

# sudo_ runs a command as root: directly when we are root, else with sudo.
sudo_() {
  if is_root; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    printf 'error: need root for: %s (run as root or install sudo)\n' "$*" >&2
    return 1
  fi
}

# free_port prints a loopback TCP port nothing listens on, chosen at random
# below the kernel's ephemeral range. Binding can still race; callers retry.
free_port() {
  local p _
  for _ in $(seq 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "error: no free port found" >&2
  return 1
}
