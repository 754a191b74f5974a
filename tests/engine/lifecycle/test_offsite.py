"""Offsite copies for real: to moto's S3 server and to a wsgidav WebDAV server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homesec_engine.records import ClipQuery

from .conftest import DavServer, S3Server
from .engine import running, stored_clips, wait_for


def dav_files(server: DavServer) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in server.root.rglob("*.mp4")}


async def copied(runtime: Any, count: int) -> bool:
    clips, _ = await runtime.repository.list_clips(ClipQuery(limit=100))
    return sum(1 for c in clips if c.offsite_state == "done") >= count


@pytest.mark.parametrize("backend", ["s3", "webdav"])
async def test_recorded_clips_are_copied_offsite_byte_for_byte(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # Given an engine recording a clip a second, copying clips to a real S3 / WebDAV server
    if backend == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        offsite = {"backend": "s3", "endpoint": s3.endpoint, "bucket": s3.bucket,
                   **request.getfixturevalue("s3_env")}
    else:
        dav: DavServer = request.getfixturevalue("webdav_server")
        offsite = {"backend": "webdav", "endpoint": dav.url,
                   **request.getfixturevalue("dav_env")}
    async with running(tmp_path, offsite) as runtime:
        # When two clips were recorded and stored
        await wait_for(lambda: copied(runtime, 2))
        clips, _ = await runtime.repository.list_clips(ClipQuery(limit=100))
        status = runtime.storage_status()
        component = runtime.components()["offsite"]

    # Then each copied clip is on the server under homesec/, the same bytes as the local copy
    remote = s3.objects() if backend == "s3" else dav_files(dav)
    local = stored_clips(tmp_path)
    done = [c for c in clips if c.offsite_state == "done"]
    for clip in done:
        name = f"{clip.id}.mp4"
        key = f"homesec/{name}" if backend == "s3" else name
        assert remote[key] == local[name]
        assert clip.offsite_uri is not None and clip.offsite_uri.endswith(f"homesec/{name}")
    # And the health says so, with no error, and the backlog is what is left to do
    assert component["status"] == "ok" and component["error"] is None
    assert component["uploaded"] >= 1
    assert status["offsite_enabled"] is True and status["offsite_error"] is None


async def test_uploads_wait_for_a_server_outage_and_then_catch_up(
    s3_server: S3Server, s3_env: dict[str, str], tmp_path: Path
) -> None:
    # Given an engine copying to an S3 server that is down
    s3_server.stop()
    offsite = {"backend": "s3", "endpoint": s3_server.endpoint, "bucket": s3_server.bucket,
               **s3_env}
    async with running(tmp_path, offsite) as runtime:
        # When clips are recorded during the outage
        async def backlog(n: int) -> bool:
            return runtime.offsite.backlog >= n

        await wait_for(lambda: backlog(2))
        down = runtime.components()["offsite"]
        local_during_outage = len(stored_clips(tmp_path))

        # Then they are stored locally, the backlog waits on disk, and health names the error
        assert local_during_outage >= 2
        assert down["status"] == "error" and down["error"]
        assert down["failing_since"] is not None
        assert len(list((tmp_path / "offsite-queue").glob("*.json"))) >= 2

        # When the server is back
        s3_server.start()
        queued = {c for c in [p.stem for p in (tmp_path / "offsite-queue").glob("*.json")]}

        async def caught_up() -> bool:
            return queued <= {k.removeprefix("homesec/").removesuffix(".mp4")
                              for k in s3_server.objects()}

        await wait_for(caught_up)

        # Then every clip queued during the outage is copied and the error is gone
        await wait_for(lambda: _no_error(runtime))


async def _no_error(runtime: Any) -> bool:
    return runtime.components()["offsite"]["error"] is None


@pytest.mark.parametrize("case", ["missing_env", "missing_bucket", "wrong_password",
                                  "unreachable"])
async def test_bad_offsite_settings_show_a_clear_error_and_recording_goes_on(
    case: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given offsite settings that cannot work
    expected: str
    if case in ("missing_env", "missing_bucket"):
        s3: S3Server = request.getfixturevalue("s3_server")
        env = request.getfixturevalue("s3_env")
        offsite = {"backend": "s3", "endpoint": s3.endpoint, "bucket": s3.bucket, **env}
        if case == "missing_env":
            monkeypatch.delenv("HOMESEC_TEST_S3_SECRET")
            expected = ("offsite.secret_access_key_env: environment variable "
                        "HOMESEC_TEST_S3_SECRET is not set")
        else:
            offsite["bucket"] = "no-such-bucket"
            expected = "NoSuchBucket"
    elif case == "wrong_password":
        dav: DavServer = request.getfixturevalue("webdav_server")
        env = request.getfixturevalue("dav_env")
        monkeypatch.setenv("HOMESEC_TEST_DAV_PASSWORD", "not-the-password")
        offsite = {"backend": "webdav", "endpoint": dav.url, **env}
        expected = "HTTP 401"
    else:
        from .conftest import free_port

        offsite = {"backend": "webdav", "endpoint": f"http://127.0.0.1:{free_port()}"}
        expected = "Connection refused"
    async with running(tmp_path, offsite) as runtime:
        # When clips are recorded
        async def failing() -> bool:
            return bool(runtime.components()["offsite"]["error"]) and \
                runtime.offsite.backlog >= 2

        await wait_for(failing)
        component = runtime.components()["offsite"]
        status = runtime.storage_status()
        clips, _ = await runtime.repository.list_clips(ClipQuery(status="done", limit=100))

    # Then health names the problem (never the secret), the clips are recorded and stored
    # locally, and their uploads wait on disk
    assert component["status"] == "error"
    assert expected in component["error"]
    assert "not-the-password" not in component["error"] and "dav-secret" not in str(component)
    assert status["offsite_error"] == component["error"]
    assert len(clips) >= 1 and len(stored_clips(tmp_path)) >= 2
    assert len(list((tmp_path / "offsite-queue").glob("*.json"))) >= 2


async def test_a_full_backlog_keeps_clips_local_with_a_warning(
    s3_server: S3Server, s3_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a backlog of at most one upload and an S3 server that is down
    s3_server.stop()
    offsite = {"backend": "s3", "endpoint": s3_server.endpoint, "bucket": s3_server.bucket,
               "max_backlog": 1, **s3_env}
    async with running(tmp_path, offsite) as runtime:
        # When more clips are recorded than the backlog holds
        async def skipped() -> bool:
            clips, _ = await runtime.repository.list_clips(ClipQuery(limit=100))
            return any(c.offsite_state == "skipped" for c in clips)

        await wait_for(skipped)
        component = runtime.components()["offsite"]

    # Then the backlog stays at one job on disk, later clips are kept locally only (marked
    # skipped, so retention may still reclaim their space), and a warning says so
    assert len(list((tmp_path / "offsite-queue").glob("*.json"))) == 1
    assert component["backlog"] == 1 and "backlog is full" in component["warning"]
    assert component["skipped"] >= 1


async def test_p0_offsite_uploads_go_on_while_the_database_is_down(
    s3_server: S3Server, s3_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.engine.state.pgcluster import throwaway_postgres

    async with throwaway_postgres() as cluster:
        # Given an engine on a PostgreSQL of its own, copying clips to S3
        offsite = {"backend": "s3", "endpoint": s3_server.endpoint,
                   "bucket": s3_server.bucket, **s3_env}
        async with running(tmp_path, offsite, database_url=cluster.url) as runtime:
            await wait_for(lambda: copied(runtime, 1))

            # When the database goes down
            await cluster.stop()
            before = set(s3_server.objects())

            # Then clips keep being recorded, stored and copied offsite
            async def more_offsite() -> bool:
                return len(set(s3_server.objects()) - before) >= 2

            await wait_for(more_offsite)
            assert not runtime.repository.available

            # And once it is back, the copies are recorded in the database
            await cluster.start()
            uploaded = {k.removeprefix("homesec/").removesuffix(".mp4")
                        for k in s3_server.objects()}

            async def recorded() -> bool:
                if not await runtime.repository.ping() or runtime.repository.pending_writes:
                    return False
                clips, _ = await runtime.repository.list_clips(ClipQuery(limit=1000))
                done = {c.id for c in clips if c.offsite_state == "done"}
                return uploaded <= done

            await wait_for(recorded)


async def test_diagnostics_over_http_name_the_offsite_problem(tmp_path: Path) -> None:
    import aiohttp

    from tests.engine_harness import running_engine

    # Given an engine whose offsite settings name an env var that is not set
    offsite = {"enabled": True, "backend": "s3", "bucket": "clips-bucket",
               "access_key_id_env": "HOMESEC_TEST_UNSET_KEY",
               "secret_access_key_env": "HOMESEC_TEST_UNSET_SECRET"}
    async with running_engine(tmp_path, config={"offsite": offsite}) as engine:
        async with aiohttp.ClientSession() as session:
            # When a user reads the diagnostics and the health
            async with session.get(f"{engine.api}/diagnostics") as resp:
                diagnostics = await resp.json()
            async with session.get(f"{engine.api}/health") as resp:
                health_status, health = resp.status, await resp.json()
    # Then the offsite component is in error, naming the field and the variable, and the
    # health says degraded with the same reason (the engine still answers and records: 200)
    component = diagnostics["components"]["offsite"]
    expected = ("offsite.access_key_id_env: environment variable HOMESEC_TEST_UNSET_KEY "
                "is not set")
    assert component["status"] == "error" and component["error"] == expected
    assert health_status == 200 and health["status"] == "degraded"
    assert health["offsite"] == "error" and health["offsite_error"] == expected
