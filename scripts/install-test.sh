#!/usr/bin/env bash
# install-test.sh follows docs/install-debian.md literally in a sandbox: it
# builds a release with dist.sh into a temporary directory, then runs every
# ```sh block of the guide in order in one bash, with the guide's variables
# pointed at the sandbox (PREFIX), the test PostgreSQL (TEST_DATABASE_URL, a
# superuser URL; the database and roles get unique names and are dropped at
# the end) and the test Ollama (TEST_OLLAMA_URL). Blocks marked
# "# systemd-only" are skipped; the one that starts the service is replaced by
# running the installed unit's ExecStart with its LoadCredential= files and
# Environment= lines, as systemd would. Blocks marked "# packages" are not
# run: the packages they install must already be installed. It ends by
# checking that the gateway serves TLS and /readyz answers 200.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

: "${TEST_DATABASE_URL:?install-test.sh needs TEST_DATABASE_URL (a superuser URL)}"
: "${TEST_OLLAMA_URL:?install-test.sh needs TEST_OLLAMA_URL}"
guide=${INSTALL_GUIDE:-docs/install-debian.md}   # another guide, e.g. to check that a broken one fails
sandbox=$(mktemp -d "${TMPDIR:-/tmp}/install-test.XXXXXX")
keep=${KEEP_SANDBOX:-}
log() { printf '[install-test] %s\n' "$*" >&2; }

db_host=$(sed -E 's|^[a-z]+://([^@/]*@)?([^:/?]+).*|\2|' <<<"$TEST_DATABASE_URL")
db_port=$(sed -nE 's|^[a-z]+://[^/]*:([0-9]+)/.*|\1|p' <<<"$TEST_DATABASE_URL")
db_user=$(sed -nE 's|^[a-z]+://([^:@/]+)[:@].*|\1|p' <<<"$TEST_DATABASE_URL")
suffix=$$_$RANDOM
port=$(free_port)

cleanup() {
  local rc=$?
  if [ -f "$sandbox/assistd.pid" ]; then
    kill "$(cat "$sandbox/assistd.pid")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$(cat "$sandbox/assistd.pid")" 2>/dev/null || break; sleep 0.2; done
  fi
  psql "$TEST_DATABASE_URL" -q -v ON_ERROR_STOP=0 \
    -c "DROP DATABASE IF EXISTS install_$suffix WITH (FORCE)" \
    -c "DROP ROLE IF EXISTS install_owner_$suffix" -c "DROP ROLE IF EXISTS install_app_$suffix" >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] && [ -f "$sandbox/assistd.log" ]; then
    log "assistd log (last lines):"; tail -n 30 "$sandbox/assistd.log" >&2
  fi
  if [ -n "$keep" ] || [ "$rc" != 0 ]; then log "sandbox kept: $sandbox"; else rm -rf "$sandbox"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

version=install-test
log "building the release into $sandbox/dist"
DIST_DIR=$sandbox/dist scripts/dist.sh "$version" "-s -w -X github.com/soteai/gateway/cmd/internal/buildinfo.Version=$version" >&2

# The program: a prelude (sandbox settings and the systemd stand-in), then
# every block of the guide, literally.
prog=$sandbox/guide.sh
cat >"$prog" <<PRELUDE
set -euo pipefail
export PREFIX='$sandbox/root'
export RELEASE='soteai-gateway-$version-linux-amd64' RELEASE_DIR='$sandbox/dist'
export SERVICE_USER='$(id -un)' GATEWAY_HOST=localhost LISTEN_ADDR=127.0.0.1 GATEWAY_PORT='$port'
export ORGANISATION='Install Test' OLLAMA_URL='$TEST_OLLAMA_URL' PG_BIN='$PG_BIN'
export DB_HOST='$db_host' DB_PORT='$db_port' DB_NAME='install_$suffix'
export DB_OWNER='install_owner_$suffix' DB_APP='install_app_$suffix'
export PSQL_ADMIN='psql -h $db_host -p $db_port -U ${db_user:-postgres}'
SANDBOX='$sandbox'
PRELUDE
cat >>"$prog" <<'PRELUDE'
# start_unit UNIT does what systemd does for the unit's start here: copies
# the LoadCredential= files into a private credentials directory, sets the
# Environment= lines (%d = that directory) and runs ExecStart as User=.
start_unit() {
  local unit=$1 creds=$SANDBOX/run/credentials line v user="" exec_start="" envs=()
  install -d -m 0700 "$creds"
  while IFS= read -r line; do
    case $line in
      LoadCredential=*) v=${line#LoadCredential=}; install -m 0400 "${v#*:}" "$creds/${v%%:*}" ;;
      Environment=*) v=${line#Environment=}; envs+=("${v//%d/$creds}") ;;
      ExecStart=*) exec_start=${line#ExecStart=} ;;
      User=*) user=${line#User=} ;;
    esac
  done <"$unit"
  [ -n "$exec_start" ] || { echo "no ExecStart in $unit" >&2; return 1; }
  local as=()
  if [ -n "$user" ] && [ "$user" != "$(id -un)" ]; then
    chown -R "$user" "$creds"; as=(runuser -u "$user" --)
  fi
  # shellcheck disable=SC2086 # ExecStart is split into words, as systemd does
  "${as[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin CREDENTIALS_DIRECTORY="$creds" "${envs[@]}" \
    $exec_start >"$SANDBOX/assistd.log" 2>&1 &
  echo $! >"$SANDBOX/assistd.pid"
}
# check_packages NAME... fails unless every package is installed.
check_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] || { echo "not installed: ${missing[*]}" >&2; return 1; }
}
PRELUDE

# Extract the blocks, one file each.
mkdir -p "$sandbox/blocks"
awk -v dir="$sandbox/blocks" '/^```sh$/ {inb=1; n++; f=sprintf("%s/%03d.sh", dir, n); printf "" >f; next}
  inb && /^```$/ {inb=0; close(f); next} inb {print >>f}' "$guide"
n=0
for f in "$sandbox"/blocks/*.sh; do
  [ -e "$f" ] || continue
  block=$(cat "$f")
  n=$((n + 1))
  first=$(head -n 1 <<<"$block")
  printf '\n# ---- block %d\n' "$n" >>"$prog"
  case $first in
    '# systemd-only')
      if grep -q 'systemctl enable --now assistd' <<<"$block"; then
        echo 'start_unit "$UNIT_DIR/assistd.service"' >>"$prog"
      else
        echo ': skipped, systemd-only' >>"$prog"
      fi
      ;;
    '# packages')
      pkgs=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' <<<"$block" | sed -n 's/^apt-get install //p' | tr ' ' '\n' | grep -v '^-' | grep -v '^$' | tr '\n' ' ')
      echo "check_packages $pkgs" >>"$prog"
      ;;
    *) printf '%s\n' "$block" >>"$prog" ;;
  esac
done
[ "$n" -ge 8 ] || { log "only $n sh blocks found in $guide"; exit 1; }
echo 'printf "%s\n" "$CA_FILE" >"$SANDBOX/ca-file"' >>"$prog"

log "running $n blocks of $guide (program: $prog)"
bash "$prog" >"$sandbox/guide.out" 2>&1 || { log "the guide failed:"; tail -n 30 "$sandbox/guide.out" >&2; exit 1; }

# The end state: TLS on the port, /readyz 200 with the trusted certificate.
ca=$(cat "$sandbox/ca-file")
code=$(curl --silent --output "$sandbox/readyz.json" --write-out '%{http_code}' --cacert "$ca" "https://localhost:$port/readyz")
[ "$code" = 200 ] || { log "/readyz answered $code: $(cat "$sandbox/readyz.json")"; exit 1; }
grep -q '"ready":true' "$sandbox/readyz.json" || { log "/readyz: $(cat "$sandbox/readyz.json")"; exit 1; }
plain=$(curl --silent --max-time 10 --output /dev/null --write-out '%{http_code}' "http://localhost:$port/readyz" || true)
[ "$plain" != 200 ] || { log "plain HTTP served /readyz on the TLS port"; exit 1; }
proto=$(curl --silent --output /dev/null --write-out '%{scheme} %{ssl_verify_result}' --cacert "$ca" "https://localhost:$port/healthz")
log "ok: $n blocks; https://localhost:$port/readyz 200 ($proto); $(cat "$sandbox/readyz.json")"
