#!/usr/bin/env bash
# with-stack.sh NAME COMMAND [ARG...] starts the local stack NAME, runs the
# command with the stack's environment (TEST_DATABASE_URL, TEST_OLLAMA_URL,
# ...; see stack.sh), then stops the stack, also when the command fails or
# is interrupted. It exits with the command's status.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || { echo "usage: with-stack.sh NAME COMMAND [ARG...]" >&2; exit 2; }
name=$1
shift
stack=$REPO_ROOT/scripts/stack.sh

trap '"$stack" stop "$name"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
t0=$SECONDS
"$stack" start "$name"
printf '[stack %s] started in %ss\n' "$name" "$((SECONDS - t0))" >&2
set -a
# shellcheck disable=SC1090
. "$REPO_ROOT/.local/$name/stack.env"
set +a
set +e
"$@"
rc=$?
set -e
exit $rc
