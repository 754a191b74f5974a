"""Durable file operations shared by storage and sources (blocking: call from a thread)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside `path` durable (best effort: some file systems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_atomically(src: Path, dest: Path) -> None:
    """Copy src to dest so dest appears complete or not at all (temp file, fsync, rename)."""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def move_atomically(src: Path, dest: Path) -> None:
    """Move src to dest: a rename on one file system, else an atomic copy then delete."""
    try:
        os.replace(src, dest)
        return
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
    copy_atomically(src, dest)
    src.unlink()


def is_partial(name: str) -> bool:
    """A file name an interrupted write leaves: a recording's `.part`, a copy's `.*.tmp`."""
    return name.endswith(".part") or (name.startswith(".") and name.endswith(".tmp"))


def remove_partial_files(root: Path) -> int:
    """Remove partial files under `root` (recursively); returns how many."""
    removed = 0
    if not root.is_dir():
        return 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if is_partial(name):
                try:
                    (Path(dirpath) / name).unlink()
                    removed += 1
                except OSError:
                    pass
    return removed
