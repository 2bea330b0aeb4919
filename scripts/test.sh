#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (Debian packages, a font, Xvfb,
# PostgreSQL), starts one throwaway PostgreSQL cluster for the whole run, then the whole
# workspace's tests, including the headless UI tests, the fault-injection suite and the
# real-window smoke test under Xvfb, and the server's suite a second time on PostgreSQL. The
# README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh

export RUST_BACKTRACE=1
log=$(mktemp)
# The cluster's directory; pg-throwaway.sh makes it and hands it to the postgres user under root.
pgdir="${TMPDIR:-/tmp}/laituri-test-pg-$$"
trap 'bash scripts/pg-throwaway.sh stop "$pgdir"; rm -f "$log"' EXIT
LAITURI_TEST_POSTGRES=$(bash scripts/pg-throwaway.sh start "$pgdir")
export LAITURI_TEST_POSTGRES
echo "test.sh: PostgreSQL for the tests at $LAITURI_TEST_POSTGRES"
set +e
cargo test --workspace --all-targets --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The server's suite again with PostgreSQL behind the same tests (the first run used SQLite).
LAITURI_TEST_BACKEND=postgres cargo test -p laituri-server --tests --locked --no-fail-fast "$@" \
  2>&1 | tee -a "$log"
pg_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$pg_status
set -e
# Stopped here already (the trap covers failures and interrupts) so the totals stay the last line.
bash scripts/pg-throwaway.sh stop "$pgdir"
# One closing line with the totals of every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
