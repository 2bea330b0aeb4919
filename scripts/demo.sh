#!/usr/bin/env bash
# Starts the Laituri demo: installs what it needs (Debian packages, a font), builds, and opens
# the terminal connected to an embedded central server with a demo warehouse. The README's demo
# command. Arguments go to `laituri demo` (e.g. --reset to start over, --mute for no sounds).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
exec cargo run --locked --bin laituri -- demo "$@"
