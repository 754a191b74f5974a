"""Secrets the add-on generates once and keeps under /data (mode 0600, never in a config file)."""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

API_KEY_FILE = "api_key"
# Shared with rootfs/etc/s6-overlay/scripts/postgres-init.sh, which creates it first.
DB_PASSWORD_FILE = "postgres_password"

_ALNUM = string.ascii_letters + string.digits


def _new_token() -> str:
    # Letters and digits only: safe inside URLs, shell scripts and SQL literals alike.
    return "".join(secrets.choice(_ALNUM) for _ in range(43))


def read_or_create_secret(path: Path) -> str:
    """Return the secret in `path`, creating it (0600) on first use.

    O_EXCL makes the first writer win if two processes race; the loser reads the winner's key.
    """
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = ""
    if value:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # tighten a file copied in with loose permissions
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = _new_token()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Ours alone (our pid): one left by a start that died here (a container's entry point
    # gets the same pid every start) would otherwise fail O_EXCL on every start after.
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (value + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if path.exists():
            os.replace(tmp, path)  # an empty leftover file: replace it
        else:
            os.link(tmp, path)  # fails if another process created it meanwhile
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value
