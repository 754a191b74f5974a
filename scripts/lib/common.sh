# shellcheck shell=bash
# shellcheck disable=SC2034  # ROOT, CACHE and UV are read by the scripts that source this
# Shared by ./scripts/run and ./scripts/test: where things are cached, how uv is found, how an
# interpreter is chosen. Nothing here writes outside the checkout and the cache folder.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The cache outlives a checkout (a fresh clone reuses the interpreter, uv's wheels and the
# debootstrap tarballs); set HOMESEC_CACHE_DIR to move it.
CACHE="${HOMESEC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homesec}"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CACHE/uv}"
export UV_PYTHON_INSTALL_DIR="${UV_PYTHON_INSTALL_DIR:-$CACHE/uv-python}"
# Compile bytecode at install: the first start is then about 0.5 s instead of 1.4 s.
export UV_COMPILE_BYTECODE=1
mkdir -p "$CACHE"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# version_at_least PYTHON 3.14.2
version_at_least() {
  "$1" - "$2" <<'PY' >/dev/null 2>&1
import sys
need = tuple(int(p) for p in sys.argv[1].split("."))
sys.exit(0 if sys.version_info[:len(need)] >= need else 1)
PY
}

# uv from PATH, else a private copy installed with pip into the cache (never --user).
ensure_uv() {
  if command -v uv >/dev/null 2>&1; then UV="$(command -v uv)"; return 0; fi
  UV="$CACHE/tools/bin/uv"
  [ -x "$UV" ] && return 0
  log "installing uv into $CACHE/tools (once)"
  local base
  base="$(command -v python3)" || { log "no python3 on PATH"; return 1; }
  "$base" -m venv "$CACHE/tools"
  "$CACHE/tools/bin/pip" install -q uv
}

# find_python MIN: an interpreter already on the machine (PATH, pyenv, uv's own), resolved
# through shims to the real executable.
find_python() {
  local min="$1" candidates=() name dir found py
  for name in python3.14 python3.13 python3.12 python3.11 python3; do
    command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
  done
  for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*; do
    [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
  done
  found="$("$UV" python find --no-python-downloads ">=$min" 2>/dev/null || true)"
  [ -n "$found" ] && candidates+=("$found")
  for py in "${candidates[@]}"; do
    if version_at_least "$py" "$min"; then
      "$py" -c 'import sys; print(sys.executable)' 2>/dev/null && return 0
    fi
  done
  return 1
}

# stamp_ok VENV DIGEST / stamp_write VENV DIGEST: skip a reinstall when nothing changed.
stamp_ok() { [ -f "$1/.homesec-stamp" ] && [ "$(cat "$1/.homesec-stamp")" = "$2" ] && [ -x "$1/bin/python" ]; }
stamp_write() { echo "$2" > "$1/.homesec-stamp"; }
digest_of() { cat "$@" | sha256sum | cut -c1-16; }
