#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (Debian packages, a font, Xvfb),
# then the whole workspace's tests, including the headless UI tests and the real-window smoke
# test under Xvfb. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh

# The UI tests find elements through Slint's debug info; the build script always emits it.
export RUST_BACKTRACE=1
cargo test --workspace --all-targets --locked "$@"
