#!/usr/bin/env bash
# stack.sh starts and stops the project-local stack the gateway, its tests and
# its benchmarks run against: a PostgreSQL 15 cluster with pgvector and an
# Ollama server serving the generated tiny model, both on free loopback ports.
#
#   scripts/stack.sh start [NAME]   start (or reuse) the stack NAME (default: dev)
#   scripts/stack.sh stop [NAME]    stop what start started
#   scripts/stack.sh env [NAME]     print the env file (eval "$(scripts/stack.sh env)")
#   scripts/stack.sh status [NAME]  say what is running
#
# Each stack lives in .local/NAME/ of the repository (data, logs, pid files)
# and writes .local/NAME/stack.env, which exports:
#   TEST_DATABASE_URL   superuser URL of the cluster (database postgres)
#   TEST_OLLAMA_URL     base URL of the Ollama server
#   TEST_OLLAMA_MODEL   the model it serves ("tiny")
#   TEST_OLLAMA_BIN     the ollama binary, to start more servers or run the CLI
#   TEST_OLLAMA_MODELS  the models directory those servers can share
#   TEST_DURABLE_DATABASE_URL  (bench stack, or STACK_DURABLE=1) a second
#                       cluster with fsync, synchronous_commit and
#                       full_page_writes on, for benchmarks of durable writes
# The test cluster runs with them off (fast, fine for tests); benchmarks
# that claim each caller waits for its durable record run on both.
# Run scripts/setup.sh first: it installs PostgreSQL, pgvector and ollama.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cmd=${1:-}
NAME=${2:-${STACK_NAME:-dev}}
case $NAME in *[!a-zA-Z0-9_-]* | '') echo "stack.sh: bad stack name '$NAME'" >&2; exit 2 ;; esac
DIR=$REPO_ROOT/.local/$NAME
ENV_FILE=$DIR/stack.env
PG_DIR=$DIR/pg
PG_DURABLE_DIR=$DIR/pgdurable
OL_DIR=$DIR/ollama
# The durable cluster: for the bench stack by default, else STACK_DURABLE=1.
DURABLE=${STACK_DURABLE:-}
if [ -z "$DURABLE" ] && [ "$NAME" = bench ]; then DURABLE=1; fi
MODEL=tiny
WAIT_SECONDS=${STACK_WAIT_SECONDS:-90}

log() { printf '[stack %s] %s\n' "$NAME" "$*" >&2; }

die() {
  log "error: $1"
  shift
  for f in "$@"; do
    if [ -f "$f" ]; then
      printf -- '--- last lines of %s ---\n' "$f" >&2
      tail -n 30 "$f" >&2
    fi
  done
  exit 1
}


# --- PostgreSQL -------------------------------------------------------------

# as_pg runs a PostgreSQL server program. PostgreSQL refuses to run as root,
# so as root it runs as the unprivileged postgres user.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# pg_prepare makes PG_DIR usable by the user the cluster runs as. As root,
# when the postgres user cannot reach the repository (a checkout under a
# private home directory), the cluster lives in a private directory under
# /tmp instead and PG_DIR is a symlink to it.
pg_prepare() {
  if ! is_root; then
    mkdir -p "$PG_DIR"
    return
  fi
  id postgres >/dev/null 2>&1 || die "no postgres user: run scripts/setup.sh"
  # A cluster moved under /tmp by an earlier run may have been cleaned away.
  if [ -L "$PG_DIR" ] && [ ! -d "$PG_DIR/" ]; then rm -f "$PG_DIR"; fi
  if [ ! -L "$PG_DIR" ]; then
    mkdir -p "$PG_DIR"
    chown postgres:postgres "$PG_DIR"
    if (cd / && runuser -u postgres -- test -w "$PG_DIR"); then
      return
    fi
    rmdir "$PG_DIR"
    local alt
    alt=$(mktemp -d "${TMPDIR:-/tmp}/soteai-stack-$NAME-XXXXXX")
    chmod 700 "$alt"
    chown postgres:postgres "$alt"
    ln -s "$alt" "$PG_DIR"
    log "the postgres user cannot reach $DIR; cluster data is in $alt"
  fi
  # The postgres user must not walk through the symlink's parents.
  PG_DIR=$(readlink -f "$PG_DIR")
}

# The cluster may live behind a symlink (see pg_prepare).
if [ -L "$PG_DIR" ] && [ -d "$PG_DIR/" ]; then PG_DIR=$(readlink -f "$PG_DIR"); fi

pg_running() { [ -f "$PG_DIR/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; }

pg_port() { sed -n 4p "$PG_DIR/data/postmaster.pid"; }

pg_start() {
  [ -x "$PG_BIN/postgres" ] || die "PostgreSQL $PG_MAJOR is not installed: run scripts/setup.sh"
  pg_prepare
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "creating the ${PG_DURABLE:+durable }PostgreSQL $PG_MAJOR cluster"
    rm -rf "$PG_DIR/data"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed" "$PG_DIR/initdb.log"
    # A throw-away local cluster: many connections (tests run 64+ writers),
    # no durability (unless PG_DURABLE=1: the benchmarks' durable cluster),
    # TCP on loopback only.
    local sync=off
    if [ "${PG_DURABLE:-}" = 1 ]; then sync=on; fi
    cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# --- settings of the project's local stack ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 400
shared_buffers = 128MB
fsync = $sync
synchronous_commit = $sync
full_page_writes = $sync
logging_collector = off
EOF
  fi
  if pg_running; then
    log "${PG_DURABLE:+durable }PostgreSQL already running on port $(pg_port)"
    return
  fi
  local port _
  for _ in 1 2 3; do
    port=$(free_port)
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t "$WAIT_SECONDS" \
      -o "-p $port" start >/dev/null 2>&1 9>&-; then
      log "${PG_DURABLE:+durable }PostgreSQL $PG_MAJOR on 127.0.0.1:$port"
      return
    fi
    grep -q "could not bind\|already in use" "$PG_DIR/postgres.log" 2>/dev/null || break
    log "port $port was taken; retrying"
  done
  die "PostgreSQL did not start" "$PG_DIR/postgres.log"
}

pg_check() {
  local port
  port=$(pg_port)
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" \
    -c "BEGIN; CREATE EXTENSION IF NOT EXISTS vector; SELECT '[1,2]'::vector <-> '[2,3]'::vector; ROLLBACK;" \
    >"$PG_DIR/check.log" 2>&1 || die "pgvector does not work in the cluster (run scripts/setup.sh)" "$PG_DIR/check.log"
}

pg_stop() {
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    log "${PG_DURABLE:+durable }PostgreSQL stopped"
  fi
}

# durable runs a pg_* function on the durable cluster (fsync etc. on).
durable() {
  local PG_DIR=$PG_DURABLE_DIR PG_DURABLE=1
  if [ -L "$PG_DIR" ] && [ -d "$PG_DIR/" ]; then PG_DIR=$(readlink -f "$PG_DIR"); fi
  "$@"
}

# --- Ollama -----------------------------------------------------------------

ol_port() { cat "$OL_DIR/port"; }

# ol_alive reports whether the pid file names a running ollama server (and
# not another process that reused the pid).
ol_alive() {
  [ -f "$OL_DIR/pid" ] || return 1
  local pid
  pid=$(cat "$OL_DIR/pid")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "ollama serve"
}

ol_ready() { curl -fsS --noproxy '*' -m 2 "http://127.0.0.1:$1/api/version" >/dev/null 2>&1; }

ol_start() {
  [ -x "$OLLAMA_BIN" ] || die "ollama is not built: run scripts/setup.sh"
  mkdir -p "$OL_DIR/models" "$OL_DIR/home"
  if ol_alive && ol_ready "$(ol_port)"; then
    log "Ollama already running on port $(ol_port)"
    return
  fi
  ol_stop_quiet
  local port pid _
  for _ in 1 2 3; do
    port=$(free_port)
    # HOME keeps the server's key pair inside the stack; OLLAMA_NEW_ENGINE is
    # cleared because only the default (llama.cpp) runner can embed with the
    # tiny model.
    env -u OLLAMA_NEW_ENGINE -u OLLAMA_HOST -u OLLAMA_MODELS \
      HOME="$OL_DIR/home" \
      OLLAMA_HOST="127.0.0.1:$port" \
      OLLAMA_MODELS="$OL_DIR/models" \
      OLLAMA_NOPRUNE=1 \
      OLLAMA_NO_CLOUD=1 \
      OLLAMA_KEEP_ALIVE=24h \
      OLLAMA_NUM_PARALLEL="${STACK_OLLAMA_NUM_PARALLEL:-4}" \
      setsid "$OLLAMA_BIN" serve >"$OL_DIR/serve.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$OL_DIR/pid"
    echo "$port" >"$OL_DIR/port"
    for _ in $(seq $((WAIT_SECONDS * 5))); do
      if ol_ready "$port"; then
        log "Ollama $OLLAMA_VERSION on 127.0.0.1:$port"
        return
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      ol_stop_quiet
      die "Ollama did not answer on port $port within ${WAIT_SECONDS}s" "$OL_DIR/serve.log"
    fi
    grep -q "address already in use" "$OL_DIR/serve.log" || break
    log "port $port was taken; retrying"
  done
  die "Ollama did not start" "$OL_DIR/serve.log"
}

# ol_model (re)creates the tiny model from the generator's current output and
# checks that the server loads it, streams text from it and embeds with it.
ol_model() {
  local url
  url=http://127.0.0.1:$(ol_port)
  (cd "$REPO_ROOT" && go run ./cmd/tinygguf -dir "$OL_DIR/tiny") >"$OL_DIR/create.log" 2>&1 \
    || die "could not generate the tiny model" "$OL_DIR/create.log"
  env -u OLLAMA_HOST HOME="$OL_DIR/home" OLLAMA_HOST="$url" \
    "$OLLAMA_BIN" create "$MODEL" -f "$OL_DIR/tiny/Modelfile" >>"$OL_DIR/create.log" 2>&1 \
    || die "ollama create $MODEL failed" "$OL_DIR/create.log" "$OL_DIR/serve.log"
  curl -fsS --noproxy '*' -m "$WAIT_SECONDS" "$url/api/generate" \
    -d "{\"model\":\"$MODEL\",\"prompt\":\"hello\",\"stream\":false,\"options\":{\"num_predict\":2}}" \
    >"$OL_DIR/check.log" 2>&1 || die "the tiny model does not generate" "$OL_DIR/check.log" "$OL_DIR/serve.log"
  curl -fsS --noproxy '*' -m "$WAIT_SECONDS" "$url/api/embed" -d "{\"model\":\"$MODEL\",\"input\":\"hello\"}" \
    >"$OL_DIR/check.log" 2>&1 || die "the tiny model does not embed" "$OL_DIR/check.log" "$OL_DIR/serve.log"
  log "model $MODEL created and loaded"
}

# ol_stop_quiet stops the server and its runners (its process group).
ol_stop_quiet() {
  ol_alive || { rm -f "$OL_DIR/pid"; return 0; }
  local pid _
  pid=$(cat "$OL_DIR/pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$OL_DIR/pid"
  return 0
}

ol_stop() {
  if ol_alive; then
    ol_stop_quiet
    log "Ollama stopped"
  fi
  rm -f "$OL_DIR/pid"
}

# --- commands ---------------------------------------------------------------

write_env() {
  local tmp=$ENV_FILE.tmp
  cat >"$tmp" <<EOF
# Written by scripts/stack.sh start $NAME; source it to reach the stack.
export TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$(pg_port)/postgres?sslmode=disable'
export TEST_OLLAMA_URL='http://127.0.0.1:$(ol_port)'
export TEST_OLLAMA_MODEL='$MODEL'
export TEST_OLLAMA_BIN='$OLLAMA_BIN'
export TEST_OLLAMA_MODELS='$OL_DIR/models'
EOF
  if [ "$DURABLE" = 1 ]; then
    echo "export TEST_DURABLE_DATABASE_URL='postgres://postgres@127.0.0.1:$(durable pg_port)/postgres?sslmode=disable'" >>"$tmp"
  fi
  mv "$tmp" "$ENV_FILE"
}

start() {
  local t0=$SECONDS
  mkdir -p "$DIR"
  # A failed start leaves nothing running behind.
  trap 'log "start failed; stopping what was started"; stop' EXIT
  command -v go >/dev/null || die "go is not on PATH: run scripts/setup.sh"
  command -v curl >/dev/null || die "curl is missing: run scripts/setup.sh"
  rm -f "$ENV_FILE"
  pg_start
  pg_check
  if [ "$DURABLE" = 1 ]; then
    durable pg_start
    durable pg_check
  fi
  ol_start
  ol_model
  write_env
  trap - EXIT
  log "ready in $((SECONDS - t0))s; env: $ENV_FILE"
}

stop() {
  rm -f "$ENV_FILE"
  ol_stop
  pg_stop
  if [ -e "$PG_DURABLE_DIR" ]; then durable pg_stop; fi
}

status() {
  local rc=0
  if pg_running; then echo "postgres: running on 127.0.0.1:$(pg_port)"; else echo "postgres: stopped"; rc=1; fi
  if [ -e "$PG_DURABLE_DIR" ]; then
    if durable pg_running; then echo "postgres (durable): running on 127.0.0.1:$(durable pg_port)"; else echo "postgres (durable): stopped"; fi
  fi
  if ol_alive; then echo "ollama: running on 127.0.0.1:$(ol_port)"; else echo "ollama: stopped"; rc=1; fi
  return $rc
}

# lock serialises start and stop of one stack. The servers are started with
# the lock's descriptor closed, so they do not hold it.
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
}

case $cmd in
  start) lock && start ;;
  stop) lock && stop ;;
  env)
    [ -f "$ENV_FILE" ] || die "stack $NAME is not running: scripts/stack.sh start $NAME"
    cat "$ENV_FILE"
    ;;
  status) status ;;
  *) sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
