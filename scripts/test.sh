#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (Debian packages, a font, Xvfb),
# then the whole workspace's tests, including the headless UI tests, the fault-injection suite
# and the real-window smoke test under Xvfb. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh

export RUST_BACKTRACE=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --all-targets --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line with the totals of every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
