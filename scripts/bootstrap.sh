#!/usr/bin/env bash
# Prepare a development environment: a Python >= 3.13.2 interpreter, a uv-managed .venv
# with the engine and the pinned Home Assistant test stack, and the Debian tools the tests use.
# Idempotent: a second run with nothing changed only checks a stamp and returns.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-stamp"
MODE="${1:-run}"   # "run" (engine only needs) or "test" (also system tools for tests)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# HA 2026.2 needs Python >= 3.13.2.
python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13, 2) else 1)' >/dev/null 2>&1
}

find_python() {
  local candidates=()
  for name in python3.14 python3.13 python3; do
    command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
  done
  for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[34]*; do
    [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
  done
  candidates+=(/usr/bin/python3.14 /usr/bin/python3.13 /usr/local/bin/python3.14 /usr/local/bin/python3.13)
  if command -v uv >/dev/null 2>&1; then
    local found
    found="$(uv python find '>=3.13.2' 2>/dev/null || true)"
    [ -n "$found" ] && candidates+=("$found")
  fi
  for py in "${candidates[@]}"; do
    # Resolve shims (pyenv) to the real interpreter so the venv does not depend on them.
    if [ -x "$py" ] && python_ok "$py"; then "$py" -c 'import sys; print(sys.executable)'; return 0; fi
  done
  return 1
}

install_trixie_python() {
  command -v apt-get >/dev/null || { log "no Python >= 3.13.2 and no apt-get; install one and retry"; exit 1; }
  log "no Python >= 3.13.2 found: installing Debian trixie's python3.13 (pinned low priority)"
  as_root tee /etc/apt/sources.list.d/trixie.list >/dev/null <<'LIST'
deb http://deb.debian.org/debian trixie main
LIST
  as_root tee /etc/apt/preferences.d/trixie-low >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  as_root apt-get update -qq
  as_root apt-get install -y -qq -t trixie python3.13 python3.13-venv python3.13-dev >/dev/null
}

ensure_debian_tools() {
  local missing=()
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v jq >/dev/null || missing+=(jq)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { log "missing tools ${missing[*]} (install them)"; return 0; }
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_uv() {
  # Where earlier runs put it (pip --user, or the private tools venv).
  export PATH="$HOME/.local/bin:$ROOT/.tools/bin:$PATH"
  command -v uv >/dev/null && return 0
  log "installing uv"
  local base
  base="$(command -v python3 || true)"
  if ! "$base" -m pip install -q --user uv 2>/dev/null; then
    "$base" -m venv "$ROOT/.tools" && "$ROOT/.tools/bin/pip" install -q uv
  fi
}

[ "$MODE" = "test" ] && ensure_debian_tools

# Everything that decides the venv's contents; a change re-runs the install.
digest="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/bootstrap.sh" | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ] && python_ok "$VENV/bin/python"; then
  exit 0
fi

ensure_uv
PY="$(find_python || true)"
if [ -z "$PY" ]; then install_trixie_python; PY="$(find_python)"; fi
log "using $PY ($("$PY" -V))"

if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
  rm -rf "$VENV"
  uv venv -q -p "$PY" "$VENV"
fi
log "installing the engine and the pinned test stack into .venv"
VIRTUAL_ENV="$VENV" uv pip install -q -e "${ROOT}[test]"
echo "$digest" > "$STAMP"
