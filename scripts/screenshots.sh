#!/usr/bin/env bash
# Writes a screenshot of every screen of the terminal at 480x800 and at 1280x800 into
# docs/screens/ (<screen>-<width>x<height>.png): the real-window test (tests/screens_window.rs)
# takes its tour of every screen under an Xvfb of its own and saves what the window shows.
# Arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh

out="$PWD/docs/screens"
mkdir -p "$out"
# A screen that is gone leaves no picture behind.
rm -f "$out"/*.png
LAITURI_SCREENSHOTS="$out" cargo test --locked --test screens_window "$@"
echo "screenshots: $(ls "$out"/*.png | wc -l) in docs/screens/"
