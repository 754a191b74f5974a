"""postgres-init.sh run for real: initdb once, role password, database, then the entry point.

The script runs under bash with two stand-ins for what only exists in the add-on image:
`bashio` (its `config`/`log` functions, reading an options.json) and `s6-setuidgid` (runuser).
The cluster is a throw-away one in a temporary folder on a spare port, stopped at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from homesec_engine.addon_entry import Settings, start

from .conftest import ADDON_DIR, BASHIO_STUB, closed_port

SCRIPT = ADDON_DIR / "rootfs/etc/s6-overlay/scripts/postgres-init.sh"


def _pg_bin() -> Path | None:
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "psql", "postgres")):
            return directory
    return None


PG_BIN = _pg_bin()
pytestmark = [
    pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries are not installed"),
    pytest.mark.skipif(shutil.which("jq") is None or shutil.which("runuser") is None,
                       reason="jq and runuser are needed for the bashio / s6 stand-ins"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the script chowns to postgres: needs root"),
]


@dataclass
class InitRun:
    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "data" / "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    def run(self, **options: object) -> subprocess.CompletedProcess[str]:
        (self.root / "options.json").write_text(json.dumps(options), encoding="utf-8")
        env = {
            "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}",
            "BASHIO_OPTIONS": str(self.root / "options.json"),
            "PG_BIN": str(PG_BIN),
            "HOMESEC_PGDATA": str(self.pgdata),
            "HOMESEC_PG_PASSWORD_FILE": str(self.data / "postgres_password"),
            "HOMESEC_PG_SOCKET_DIR": str(self.socket_dir),
        }
        return subprocess.run(
            ["bash", "-c", f'source "{self.root}/bashio.sh"; source "{SCRIPT}"'],
            env=env, capture_output=True, text=True, timeout=180, check=False)

    def pg_ctl(self, *args: str) -> None:
        # The server's output goes to a log file: a pipe would stay open as long as it runs.
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"),
                        "--pgdata", str(self.pgdata), "--log", str(self.pgdata / "server.log"),
                        *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                       check=True)


@pytest.fixture
def init_run() -> Iterator[InitRun]:
    # Under /tmp with 0755 so the postgres user can reach the cluster folder.
    root = Path(tempfile.mkdtemp(prefix="homesec-pginit-"))
    root.chmod(0o755)
    (root / "bin").mkdir()
    stub = root / "bin" / "s6-setuidgid"
    stub.write_text('#!/bin/sh\nuser="$1"; shift\nexec runuser -u "$user" -- "$@"\n',
                    encoding="utf-8")
    stub.chmod(0o755)
    (root / "bashio.sh").write_text(BASHIO_STUB, encoding="utf-8")
    (root / "data").mkdir()
    run = InitRun(root)
    try:
        yield run
    finally:
        if (run.pgdata / "postmaster.pid").exists():
            run.pg_ctl("stop", "--wait", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def served(init_run: InitRun) -> AsyncIterator[tuple[InitRun, int]]:
    """After the init script ran: the cluster served on a spare loopback TCP port."""
    yield init_run, closed_port()


async def _serve(run: InitRun, port: int) -> None:
    await asyncio.to_thread(
        run.pg_ctl, "start", "--wait",
        "-o", f"-c listen_addresses=127.0.0.1 -p {port} "
              f"-c unix_socket_directories={run.socket_dir}")


async def _stop(run: InitRun) -> None:
    await asyncio.to_thread(run.pg_ctl, "stop", "--wait", "-m", "fast")


async def test_first_start_creates_the_cluster_and_the_engine_logs_in(
    served: tuple[InitRun, int],
) -> None:
    run, port = served
    # Given a new add-on without a database password option
    # When postgres-init runs
    result = await asyncio.to_thread(run.run, log_level="info")

    # Then it created the cluster and a password file only the add-on can read
    assert result.returncode == 0, result.stdout + result.stderr
    assert (run.pgdata / "PG_VERSION").is_file()
    password_file = run.data / "postgres_password"
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    password = password_file.read_text(encoding="utf-8").strip()
    assert len(password) == 43 and password.isalnum()
    assert password not in result.stdout + result.stderr
    # And no server was left running by the one-shot
    assert not (run.pgdata / "postmaster.pid").exists()

    # When the bundled server runs and the entry point starts against it
    await _serve(run, port)
    try:
        settings = Settings(options_path=run.root / "options.json", data_dir=run.data,
                            config_dir=run.root / "config", supervisor_token=None,
                            bundled_db_url=f"postgresql://homesec@127.0.0.1:{port}/homesec",
                            db_timeout_s=20.0, run_engine=False)
        startup = await start(settings)
        # Then the engine's database URL logs in as homesec to the homesec database
        conn = await asyncpg.connect(startup.env["HOMESEC_DATABASE_URL"])
        try:
            assert await conn.fetchval("SELECT current_user || '/' || current_database()") == (
                "homesec/homesec")
        finally:
            await conn.close()
        # And a wrong password is refused (the password really protects the database)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://homesec:wrong@127.0.0.1:{port}/homesec")
    finally:
        await _stop(run)


async def test_restart_keeps_data_and_applies_a_password_option(
    served: tuple[InitRun, int],
) -> None:
    run, port = served
    # Given a cluster made on the first start, holding a table
    assert (await asyncio.to_thread(run.run)).returncode == 0
    generated = (run.data / "postgres_password").read_text(encoding="utf-8").strip()
    await _serve(run, port)
    try:
        conn = await asyncpg.connect(
            f"postgresql://homesec:{generated}@127.0.0.1:{port}/homesec")
        await conn.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
        await conn.close()
    finally:
        await _stop(run)

    # When the add-on starts again, now with a database_password option
    result = await asyncio.to_thread(run.run, database_password="chosen-by-user")

    # Then the cluster is reused (the data is still there) and the option's password works
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Creating the bundled" not in result.stdout
    await _serve(run, port)
    try:
        conn = await asyncpg.connect(
            f"postgresql://homesec:chosen-by-user@127.0.0.1:{port}/homesec")
        try:
            assert await conn.fetchval("SELECT v FROM kept") == 7
        finally:
            await conn.close()
    finally:
        await _stop(run)


async def test_external_database_skips_the_bundled_cluster(init_run: InitRun) -> None:
    # Given an external database URL option
    # When postgres-init runs
    result = await asyncio.to_thread(
        init_run.run, database_url="postgresql://homesec@db.lan:5432/homesec")
    # Then it succeeds without creating a cluster or a password
    assert result.returncode == 0, result.stdout + result.stderr
    assert "External database configured" in result.stdout
    assert not init_run.pgdata.exists()
    assert not (init_run.data / "postgres_password").exists()


async def test_whole_start_up_serves_the_api_behind_the_key(
    served: tuple[InitRun, int], supervisor,
) -> None:
    run, db_port = served
    # Given the bundled database prepared by postgres-init and served by the postgres service
    options = {"log_level": "info", "storage_path": str(run.root / "media"),
               "vlm_enabled": False, "vlm_model": "gpt-4o-mini"}
    assert (await asyncio.to_thread(run.run, **options)).returncode == 0
    await _serve(run, db_port)
    api_port = closed_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HOMESEC_")},
        "SUPERVISOR_TOKEN": supervisor.token,
        "SUPERVISOR_URL": supervisor.url,
        "HOMESEC_SUPERVISOR_CORE_URL": supervisor.url + "/core",
        "HOSTNAME": "a0d7b954-homesec",
    }
    cmd = [sys.executable, "-m", "homesec_engine.addon_entry",
           "--options", str(run.root / "options.json"), "--data-dir", str(run.data),
           "--config-dir", str(run.root / "config"), "--port", str(api_port),
           "--bundled-db-url", f"postgresql://homesec@127.0.0.1:{db_port}/homesec"]
    log = open(run.root / "addon.log", "wb")  # noqa: SIM115 - closed in finally
    # When the homesec service runs the entry point (which then runs the engine)
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{api_port}/api/v1"
        async with aiohttp.ClientSession() as session:
            try:
                health = await _wait_for_health(session, base, proc)
            except AssertionError as err:
                log.flush()
                tail = (run.root / "addon.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{err}\n{tail}") from None
            # Then the engine answers its public health check, with the database up
            assert health["status"] == "healthy", health
            api_key = (run.data / "api_key").read_text(encoding="utf-8").strip()
            # And every other endpoint requires the key the add-on announced
            async with session.get(f"{base}/stats") as resp:
                assert resp.status == 401
            async with session.get(f"{base}/stats",
                                   headers={"Authorization": f"Bearer {api_key}"}) as resp:
                assert resp.status == 200, await resp.text()
        assert supervisor.received == [{"service": "homesec", "config": {
            "host": "a0d7b954-homesec", "port": api_port, "api_key": api_key}}]
    finally:
        if proc.returncode is None:
            proc.terminate()
        code = await proc.wait()
        log.close()
        await _stop(run)
    # And a stop by the supervisor (SIGTERM) is a clean exit
    assert code == 0, (run.root / "addon.log").read_text(errors="replace")[-3000:]
    assert api_key not in (run.root / "addon.log").read_text(errors="replace")


async def _wait_for_health(session: aiohttp.ClientSession, base: str,
                           proc: asyncio.subprocess.Process) -> dict[str, object]:
    for _ in range(600):
        if proc.returncode is not None:
            raise AssertionError(f"the add-on exited early with {proc.returncode}")
        try:
            async with session.get(f"{base}/health") as resp:
                if resp.status == 200:
                    body: dict[str, object] = await resp.json()
                    return body
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the engine never answered /health")
