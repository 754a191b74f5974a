#!/usr/bin/env bash
# Debian packages that the machine lacks, unpacked into the cache without installing anything:
# `apt-get download` with a private apt state (so /etc and /var are untouched) fetches the
# packages and the libraries they need that the machine does not already have at that version,
# and `dpkg -x` unpacks them into <cache>/debian-<name>-<suite>/root. Programs from there run
# with that folder's libraries first on LD_LIBRARY_PATH (see private_wrapper in test-tools.sh).
# Usage: private-debs.sh <cache-dir> <name> <package>...; prints the folder holding root/.
set -euo pipefail

CACHE="$1"
WHAT="$2"
shift 2
# shellcheck disable=SC1091  # the machine's own release file
SUITE="${HOMESEC_PRIVATE_DEBS_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}"
DEST="$CACHE/debian-$WHAT-$SUITE"
# The dpkg status apt resolves against: the machine's; an empty file makes the folder
# self-contained (how the scripts are tried for a machine that has none of these packages).
STATUS="${HOMESEC_PRIVATE_DEBS_STATUS:-/var/lib/dpkg/status}"

log() { printf 'private-debs: %s\n' "$*" >&2; }

if [ -f "$DEST/.complete" ]; then echo "$DEST"; exit 0; fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then log "needs apt-get and dpkg"; exit 1; fi

# Two runs asking for the same tree at once (a test run and a bench, two lanes) must not unpack
# into each other: one builds under a lock, into a side folder moved into place when complete,
# and the other waits and takes the finished tree.
mkdir -p "$CACHE"
exec 9>"$DEST.lock"
flock 9
if [ -f "$DEST/.complete" ]; then echo "$DEST"; exit 0; fi
FINAL="$DEST"
DEST="$FINAL.partial"
rm -rf "$DEST" "$FINAL"
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/apt-private.sh"
mkdir -p "$DEST/debs"
apt_private_init "$DEST/apt" "$SUITE"
log "$WHAT: reading Debian $SUITE's package index (private apt state under $DEST/apt)"
apt_private update >/dev/null

# What installing them would add or upgrade, as apt resolves it against the machine's own dpkg
# status (read only: a simulation). The C library always comes from the machine (a second libc
# cannot be loaded beside the system's loader) and packaging scripts are never run.
mapfile -t wanted < <(
  apt_private -o Dir::State::status="$STATUS" -s install --no-install-recommends "$@" 2>/dev/null \
  | awk '$1 == "Inst" {print $2}' \
  | grep -Ev '^(libc6|libc-bin|libgcc-s1|libstdc\+\+6|perl|perl-base|perl-modules.*|dpkg|debconf|base-files|bash|dash|coreutils|tar)$' || true
)
[ ${#wanted[@]} -gt 0 ] || { log "$WHAT: the machine has everything for: $*"; exit 1; }
log "$WHAT: downloading ${#wanted[@]} packages (the rest are on the machine)"
if [ ${#wanted[@]} -gt 0 ]; then
  (cd "$DEST/debs" && apt_private download "${wanted[@]}" >/dev/null)
fi
mkdir -p "$DEST/root"
for deb in "$DEST"/debs/*.deb; do [ -e "$deb" ] && dpkg -x "$deb" "$DEST/root"; done
rm -rf "$DEST/debs" "$DEST/apt/cache/archives"
touch "$DEST/.complete"
mv "$DEST" "$FINAL"
log "$WHAT: ready under $FINAL/root"
echo "$FINAL"
