#!/usr/bin/env bash
# run.sh starts the local stack "run" (kept in .local/run/; its data survives
# restarts), writes a gateway config for it, migrates the database, creates a
# bearer token, and runs cmd/assistd on a free loopback port in the
# foreground. Ctrl-C stops the gateway and the stack.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cd "$REPO_ROOT"
NAME=run
DIR=.local/$NAME
CONFIG=$DIR/assistd.yaml
KEYS=$DIR/keys
BIN=.local/bin
stack=scripts/stack.sh

log() { printf '[run] %s\n' "$*" >&2; }

trap '"$stack" stop "$NAME"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for main in cmd/assistd/main.go cmd/assist/main.go; do
  [ -f "$main" ] || { log "error: $main does not exist yet"; exit 1; }
done
mkdir -p "$BIN"
log "building assistd and assist"
go build -o "$BIN/assistd" ./cmd/assistd
go build -o "$BIN/assist" ./cmd/assist

"$stack" start "$NAME"
# shellcheck disable=SC1090,SC1091
. "$DIR/stack.env"

# Audit keys are made once and kept with the stack's data, so the audit log
# of earlier runs stays verifiable.
mkdir -p "$KEYS" && chmod 700 "$KEYS"
for k in audit-hmac audit-checkpoint; do
  if [ ! -s "$KEYS/$k.key" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEYS/$k.key")
  fi
done

port=$(free_port)
cat >"$CONFIG" <<YAML
# Written by scripts/run.sh for the local stack; assistd.example.yaml
# documents every key.
listen: 127.0.0.1:$port
database:
  url: $TEST_DATABASE_URL
hosts:
  - name: local
    url: $TEST_OLLAMA_URL
    labels: [cpu, site=local]
    max_concurrent: 4
models:
  chat: $TEST_OLLAMA_MODEL
  embedding: $TEST_OLLAMA_MODEL
audit:
  hmac_key_file: $REPO_ROOT/$KEYS/audit-hmac.key
  checkpoint_key_file: $REPO_ROOT/$KEYS/audit-checkpoint.key
YAML
log "config: $CONFIG"

"$BIN/assist" --config "$CONFIG" migrate
token=$("$BIN/assist" --config "$CONFIG" tokens create "local-$(date +%Y%m%d-%H%M%S)" --role clinician)

url=http://127.0.0.1:$port
cat >&2 <<MSG

[run] the gateway is starting on $url (Ctrl-C stops it and the stack).
[run] a clinician token for this run: $token
      curl $url/healthz
      curl -H 'Authorization: Bearer $token' $url/api/chat \\
        -d '{"model":"$TEST_OLLAMA_MODEL","messages":[{"role":"user","content":"Hei!"}]}'
      curl -H 'Authorization: Bearer $token' $url/v1/embeddings \\
        -d '{"model":"$TEST_OLLAMA_MODEL","input":"verenpaine"}'
[run] the ollama CLI signs requests with ~/.ollama/id_ed25519 once its key is registered:
      $BIN/assist --config $CONFIG tokens add-ollama-key me --role clinician
      OLLAMA_AUTH=1 OLLAMA_HOST=$url $TEST_OLLAMA_BIN run $TEST_OLLAMA_MODEL "Hei!"

MSG
set +e
"$BIN/assistd" -config "$CONFIG"
rc=$?
set -e
exit $rc
