#!/usr/bin/env bash
# test.sh runs the Go tests against the real local stack (started and
# stopped around them by with-stack.sh) and prints a summary. The log is kept
# in .local/$STACK/go-test.log.
#
#   PKGS      packages to test (default ./...)
#   TESTFLAGS extra go test flags, e.g. TESTFLAGS='-run TestFailover -v'
#   STACK     name of the stack (default test); give each concurrent run its own
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cd "$REPO_ROOT"
stack=${STACK:-test}
log=.local/$stack/go-test.log
mkdir -p ".local/$stack"
: >"$log"

# shellcheck disable=SC2317 # run by with-stack.sh through bash -c
run_tests() {
  # shellcheck disable=SC2086 # word splitting of PKGS and TESTFLAGS is wanted
  go test -count=1 -p 2 ${TESTFLAGS:-} ${PKGS:-./...} 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}
export -f run_tests
export log

t0=$SECONDS
set +e
"$REPO_ROOT/scripts/with-stack.sh" "$stack" bash -c run_tests
rc=$?
set -e

passed=$(grep -c '^ok ' "$log" 2>/dev/null || true)
failed=$(grep -cE '^FAIL[[:space:]]+[^[:space:]]+[[:space:]]' "$log" 2>/dev/null || true)
notests=$(grep -c '^?' "$log" 2>/dev/null || true)
echo
echo "==== make test: $passed packages passed, $failed failed, $notests without tests ($((SECONDS - t0))s; log: $log)"
if [ "$failed" != 0 ]; then
  grep -E '^FAIL[[:space:]]+[^[:space:]]+[[:space:]]' "$log" | sed 's/^/     /'
fi
if [ "$rc" != 0 ]; then
  echo "==== FAILED (exit $rc)"
else
  echo "==== PASSED"
fi
exit $rc
