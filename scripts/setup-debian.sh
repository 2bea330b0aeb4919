#!/usr/bin/env bash
# Installs the Debian packages Laituri needs to build, test and run its demo.
# Idempotent; safe to run again. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  pkg-config libfontconfig1-dev libasound2-dev libxkbcommon-dev
  # run: Slint needs at least one font, rodio needs ALSA's library
  libfontconfig1 libasound2 fonts-dejavu-core ca-certificates
  # real-window smoke tests and screenshots
  xvfb xdotool x11-utils imagemagick zbar-tools
  # the server's tests against PostgreSQL: a throwaway cluster each (scripts/pg-throwaway.sh)
  postgresql
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all Debian packages already installed"
  exit 0
fi

# Tests run their own throwaway clusters, so when this script is what brings PostgreSQL, Debian is
# asked not to create (and start) its default cluster on port 5432. `pg_createcluster VERSION main
# --start` makes one later if wanted.
if ! dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q "install ok installed"; then
  $SUDO mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" |
    $SUDO tee /etc/postgresql-common/createcluster.d/laituri-tests.conf >/dev/null
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
