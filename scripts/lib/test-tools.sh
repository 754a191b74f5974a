#!/usr/bin/env bash
# shellcheck shell=bash
# The programs the tests drive beside Python (Chromium, jq, PostgreSQL, Mosquitto), without
# installing anything into the system: the machine's own where it has them, otherwise Debian's
# packages unpacked into the cache by private-debs.sh and run through a small wrapper that puts
# their libraries first (LD_LIBRARY_PATH). Sourced by ./scripts/test; also runs on its own:
#   bash scripts/lib/test-tools.sh chromium    # prints a Chromium to run (HOMESEC_CHROMIUM)
#   bash scripts/lib/test-tools.sh jq          # prints a jq
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# private_tree NAME PACKAGE...: the folder whose root/ holds the unpacked packages.
private_tree() { bash "$ROOT/scripts/lib/private-debs.sh" "$CACHE" "$@"; }

# lib_path ROOT: the folders of an unpacked tree that hold shared libraries.
lib_path() {
  { find "$1/usr/lib" "$1/lib" -maxdepth 3 -name '*.so*' -printf '%h\n' 2>/dev/null || true; } | sort -u | paste -sd:
}

# wrap ROOT TARGET OUT [VAR=VALUE...]: OUT runs ROOT/TARGET with ROOT's libraries (and VARs).
wrap() {
  local root="$1" target="$2" out="$3" libs assignment
  shift 3
  libs="$(lib_path "$root")"
  mkdir -p "$(dirname "$out")"
  {
    echo '#!/bin/sh'
    echo "# Runs $target from Debian's package unpacked under $root (see scripts/lib/test-tools.sh)."
    echo "export LD_LIBRARY_PATH=\"$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
    for assignment in "$@"; do echo "export $assignment"; done
    echo "exec \"$root$target\" \"\$@\""
  } > "$out"
  chmod 755 "$out"
}

# HOMESEC_TEST_PRIVATE=1 ignores the machine's programs and servers: the path a fresh machine
# takes, tried on one that has them.
PRIVATE_ONLY="${HOMESEC_TEST_PRIVATE:-0}"

# The machine's program NAME, if it has one (PATH, then the sbin folders PATH may lack).
machine_program() {
  [ "$PRIVATE_ONLY" = 1 ] && return 1
  command -v "$1" 2>/dev/null && return 0
  local dir
  for dir in /usr/sbin /sbin /usr/local/sbin; do [ -x "$dir/$1" ] && echo "$dir/$1" && return 0; done
  return 1
}

chromium_program() {
  if [ -n "${HOMESEC_CHROMIUM:-}" ]; then echo "$HOMESEC_CHROMIUM"; return 0; fi
  if machine_program chromium || machine_program chromium-browser; then return 0; fi
  local tree out
  tree="$(private_tree chromium chromium fonts-dejavu-core)" || return 1
  out="$tree/bin/chromium"
  if [ ! -x "$out" ]; then
    # Fonts from the unpacked tree as well as the machine's, with the font cache kept beside them.
    cat > "$tree/fonts.conf" <<XML
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>$tree/root/usr/share/fonts</dir>
  <cachedir>$tree/fontconfig-cache</cachedir>
</fontconfig>
XML
    wrap "$tree/root" /usr/lib/chromium/chromium "$out" "FONTCONFIG_FILE=\"$tree/fonts.conf\""
  fi
  echo "$out"
}

# debian_program NAME PACKAGE PATH: the machine's NAME, else PATH in Debian's PACKAGE unpacked.
debian_program() {
  machine_program "$1" && return 0
  local tree
  tree="$(private_tree "$2" "$2")" || return 1
  [ -x "$tree/bin/$1" ] || wrap "$tree/root" "$3" "$tree/bin/$1"
  echo "$tree/bin/$1"
}
jq_program() { debian_program jq jq /usr/bin/jq; }
mosquitto_program() { debian_program mosquitto mosquitto /usr/sbin/mosquitto; }

# A folder with initdb, pg_ctl and postgres: the machine's, else Debian's unpacked (the
# unpacked tree's bin/ holds wrappers; pg_ctl then starts the real postgres beside itself,
# which inherits the libraries' path).
postgres_bin_dir() {
  local dir tree name
  if [ -n "${HOMESEC_PG_BIN:-}" ]; then echo "$HOMESEC_PG_BIN"; return 0; fi
  # Debian's versioned folders (the newest last, so it wins), then the one on PATH
  local found=""
  if [ "$PRIVATE_ONLY" != 1 ]; then
    for dir in /usr/lib/postgresql/*/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"; do
      [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && found="$dir"
    done
  fi
  if [ -n "$found" ]; then echo "$found"; return 0; fi
  tree="$(private_tree postgresql postgresql)" || return 1
  for dir in "$tree"/root/usr/lib/postgresql/*/bin; do :; done   # the newest (glob order)
  if [ ! -x "$tree/bin/pg_ctl" ]; then
    for name in initdb pg_ctl postgres; do wrap "$tree/root" "${dir#"$tree/root"}/$name" "$tree/bin/$name"; done
  fi
  echo "$tree/bin"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    chromium) chromium_program ;;
    jq) jq_program ;;
    mosquitto) mosquitto_program ;;
    postgres) postgres_bin_dir ;;
    *) echo "usage: $0 chromium|jq|mosquitto|postgres" >&2; exit 2 ;;
  esac
fi
