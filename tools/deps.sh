#!/bin/sh
# Installs (as root) or names (otherwise) every Debian 12 package bandmate needs.
# Usage: tools/deps.sh [--bench|--fuzz]  (reference tools for `make bench`; clang for `make fuzz`)
set -eu

PKGS="gcc make pkg-config
libjack-jackd2-dev jackd2
liblo-dev liblo-tools
liblua5.4-dev lua5.4
libportmidi-dev
libsndfile1-dev
libaubio-dev
libopenblas-dev
libfftw3-dev
libcairo2-dev
mma abcmidi fluid-soundfont-gm fluidsynth sox"

case "${1:-}" in
  --bench) PKGS="$PKGS python3-torch python3-numpy" ;;
  --fuzz)  PKGS="$PKGS clang libclang-rt-14-dev" ;;
  "") ;;
  *) echo "usage: tools/deps.sh [--bench|--fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "bandmate needs these Debian packages; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
  echo "make deps: apt-get update" >&2
  apt-get update -q
fi
echo "make deps: installing$missing" >&2
apt-get install -y -q --no-install-recommends $missing
