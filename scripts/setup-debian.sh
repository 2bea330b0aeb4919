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

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
