"""The s6-overlay services and their scripts: the order they start in, and shellcheck."""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from pathlib import Path

from tests import tools

from .conftest import ADDON_DIR

ROOTFS = ADDON_DIR / "rootfs"
S6 = ROOTFS / "etc" / "s6-overlay" / "s6-rc.d"
SHELLS = ("bash", "sh", "bashio", "with-contenv")


def _shebang(path: Path) -> str:
    with open(path, "rb") as handle:
        first = handle.readline().decode(errors="replace").strip()
    return first if first.startswith("#!") else ""


def shell_scripts() -> list[Path]:
    return sorted(p for p in ROOTFS.rglob("*")
                  if p.is_file() and any(s in _shebang(p) for s in SHELLS))


def test_services_start_in_order_postgres_init_postgres_homesec() -> None:
    # Given the s6-rc service definitions
    def kind(name: str) -> str:
        return (S6 / name / "type").read_text(encoding="utf-8").strip()

    def deps(name: str) -> set[str]:
        return {p.name for p in (S6 / name / "dependencies.d").iterdir()}

    # Then postgres-init is a one-shot after the base bundle, postgres and homesec are
    # long-running, each after the one before
    assert kind("postgres-init") == "oneshot" and deps("postgres-init") == {"base"}
    assert kind("postgres") == "longrun" and deps("postgres") == {"postgres-init"}
    assert kind("homesec") == "longrun" and deps("homesec") == {"postgres"}
    # And the user bundle starts all three
    assert {p.name for p in (S6 / "user" / "contents.d").iterdir()} == {
        "postgres-init", "postgres", "homesec"}


def test_service_files_are_executable_scripts() -> None:
    # Then every run/finish file and the one-shot's script are executable shell scripts
    up = (S6 / "postgres-init" / "up").read_text(encoding="utf-8").strip()
    targets = [ROOTFS / up.lstrip("/")] + sorted(S6.glob("*/run")) + sorted(S6.glob("*/finish"))
    assert len(targets) == 5
    for path in targets:
        assert path.is_file(), path
        assert os.access(path, os.X_OK), f"{path} is not executable"
        assert _shebang(path), f"{path} has no #! line"


def test_homesec_run_only_execs_the_python_entry_point() -> None:
    # Given the homesec service's run script
    lines = [ln.strip() for ln in (S6 / "homesec" / "run").read_text(encoding="utf-8")
             .splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    # Then it holds no start-up logic of its own
    assert lines == ["exec python3 -m homesec_engine.addon_entry"]


def test_bundled_database_is_skipped_with_an_external_url() -> None:
    # Then both database services check the external database option before doing anything
    for path in (ROOTFS / "etc/s6-overlay/scripts/postgres-init.sh", S6 / "postgres" / "run"):
        text = path.read_text(encoding="utf-8")
        check = text.index("bashio::config.has_value 'database_url'")
        first_action = min(text.index(word) for word in ("initdb", "exec s6-setuidgid")
                           if word in text)
        assert check < first_action, path


def test_every_script_under_rootfs_passes_shellcheck() -> None:
    # Given every shell script the image runs
    scripts = shell_scripts()
    assert len(scripts) >= 5
    # When shellcheck reads them (bashio scripts declare `shell=bash`)
    result = subprocess.run([tools.shellcheck(), "--external-sources", "--severity=style",
                             *map(str, scripts)], capture_output=True, text=True, check=False)
    # Then it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    pos, size, idat = 8, (0, 0), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad {kind!r} CRC in {path.name}"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height = size
    assert len(zlib.decompress(idat)) == height * (1 + width * 4)  # RGBA rows + filter byte
    return width, height


def test_icon_and_logo_are_valid_pngs() -> None:
    # Then the store shows a square icon and a wide logo
    width, height = _png_size(ADDON_DIR / "icon.png")
    assert width == height and width >= 128
    width, height = _png_size(ADDON_DIR / "logo.png")
    assert width > height
