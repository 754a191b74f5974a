#!/usr/bin/env bash
# Debian's opencv-doc sample data (real photos, the pedestrian video vtest.avi) for the detector
# tests and bench/detect.py: `apt-get download` with a private apt state (so /etc and /var are
# untouched), then `dpkg -x` into the cache. Prints the samples folder.
# Usage: fetch-opencv-samples.sh [cache-dir]
set -euo pipefail
CACHE="${1:-${HOMESEC_CACHE:-$HOME/.cache/homesec}}"
DEST="$CACHE/opencv-doc"
SAMPLES="$DEST/root/usr/share/doc/opencv-doc/examples/data"
SUITE="${HOMESEC_OPENCV_DOC_SUITE:-bookworm}"
if [ -f "$DEST/.complete" ]; then echo "$SAMPLES"; exit 0; fi
# One builder at a time (concurrent test runs and benches); the others wait for its result.
mkdir -p "$CACHE" && exec 9>"$DEST.lock" && flock 9
if [ -f "$DEST/.complete" ]; then echo "$SAMPLES"; exit 0; fi
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/../lib/apt-private.sh"
rm -rf "$DEST"
mkdir -p "$DEST/debs"
apt_private_init "$DEST/apt" "$SUITE"
apt_private update >/dev/null
(cd "$DEST/debs" && apt_private download opencv-doc >/dev/null)
dpkg -x "$DEST"/debs/opencv-doc_*.deb "$DEST/root"
rm -rf "$DEST/debs" "$DEST/apt/cache/archives"
[ -d "$SAMPLES" ] || { echo "fetch-opencv-samples: no sample data in opencv-doc" >&2; exit 1; }
touch "$DEST/.complete"
echo "$SAMPLES"
