"""A throw-away PostgreSQL cluster for outage tests (initdb + pg_ctl on a free port).

    async with throwaway_postgres() as cluster:
        repo = ClipRepository(cluster.url, ...)
        await cluster.stop()    # the database is down
        await cluster.start()   # and back, same data, same port

The cluster lives in a temporary directory that is removed afterwards; trust auth, user
`postgres`, database `postgres`, listening on 127.0.0.1 only. When the tests run as root
(initdb refuses root), the server runs as the `postgres` system user through `runuser` (or
`nobody` on a machine without one: ./scripts/test then gives a readable HOMESEC_PG_BIN).
The binaries are looked up in $HOMESEC_PG_BIN, the `pg_config --bindir` of the PATH, and
/usr/lib/postgresql/<newest>/bin.

Tests that use it need TCP sockets: with pytest-homeassistant-custom-component loaded, request
the `socket_enabled` fixture.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PgCluster", "find_pg_bin", "throwaway_postgres"]


def find_pg_bin() -> Path:
    """The directory holding initdb and pg_ctl."""
    candidates: list[Path] = []
    if env := os.environ.get("HOMESEC_PG_BIN"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            pass
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise RuntimeError(
        "initdb/pg_ctl not found: install the PostgreSQL server binaries or set HOMESEC_PG_BIN"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    bin_dir: Path
    base_dir: Path
    port: int
    run_as: str | None = None  # system user running the server (None: the current user)
    running: bool = field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def url(self) -> str:
        """postgresql://postgres@127.0.0.1:PORT/postgres"""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    async def _run(self, *args: str, check: bool = True) -> str:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        out, _ = await proc.communicate()
        text = out.decode(errors="replace")
        if check and proc.returncode:
            log = ""
            if self.log_file.exists():
                log = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text}\n{log}")
        return text

    async def init(self) -> None:
        await self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    async def start(self) -> None:
        """Start the server (same data, same port) and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        await self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.running = True

    async def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        """Stop the server (`pg_ctl stop -m fast` by default: connections are cut)."""
        await self._run(
            "pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop", check=check
        )
        self.running = False


def _prepare_owner(base_dir: Path) -> str | None:
    """Give the directory to `postgres` (else `nobody`) when running as root; that user, or None."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        os.chown(base_dir, user.pw_uid, user.pw_gid)
        return name
    raise RuntimeError("running as root needs a 'postgres' or 'nobody' system user for initdb")


@asynccontextmanager
async def throwaway_postgres(*, port: int | None = None) -> AsyncIterator[PgCluster]:
    """A fresh, started PostgreSQL cluster; stopped and removed on exit."""
    bin_dir = find_pg_bin()
    base_dir = Path(tempfile.mkdtemp(prefix="homesec-pg-"))
    try:
        base_dir.chmod(0o755)
        run_as = _prepare_owner(base_dir)
        for attempt in range(5):
            cluster = PgCluster(bin_dir, base_dir, port or free_port(), run_as)
            if attempt == 0:
                await cluster.init()
            try:
                await cluster.start()
                break
            except RuntimeError:
                if port is not None or attempt == 4:
                    raise  # a fixed port, or no luck with five free ones
        try:
            yield cluster
        finally:
            if cluster.running:
                await cluster.stop(mode="immediate", check=False)
    finally:
        await asyncio.to_thread(shutil.rmtree, base_dir, True)
