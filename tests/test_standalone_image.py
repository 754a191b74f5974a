"""The standalone image (root Dockerfile) for HA Container/Core users, and its config files.

The replay test (`pytest -m image`; root, slow) builds the Dockerfile under chroot with
tests/imagereplay.py and runs its CMD as its non-root user against a fresh database on the
machine's PostgreSQL (as compose.yaml's `db` service would be), with a stand-in for Home
Assistant's REST API. The other tests read the files and run in the normal suite.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import yaml
from aiohttp import web

from homesec_engine.schema import validate
from tests import imagereplay
from tests.imagereplay import Image, Recipe
from tests.loopback import closed_port, loopback_sockets, serve_loopback
from tests.services import PG_URL, pg_url

__all__ = ["loopback_sockets"]  # autouse: this module talks to PostgreSQL and local servers

REPO = Path(__file__).resolve().parents[1]
IMAGE_CONFIG = REPO / "container" / "homesec.yaml"
ADMIN_DB = PG_URL


def standalone_recipe() -> Recipe:
    steps = imagereplay.parse_dockerfile(REPO / "Dockerfile")
    base = next(s.text for s in steps if s.kind == "FROM")
    # The checkout is the build context: COPY brings the working tree, nothing to replace.
    return Recipe(dockerfile=REPO / "Dockerfile", context=REPO, args={}, base_image=base,
                  engine_marker='"/src[detector,webrtc]"', engine_source='"/src[detector,webrtc]"')


def test_image_config_is_a_valid_engine_config_without_secrets() -> None:
    # Given the config the standalone image runs with
    config = yaml.safe_load(IMAGE_CONFIG.read_text(encoding="utf-8"))
    # Then the engine's schema accepts it
    validate("Config", config)
    # And every secret comes from an environment variable that compose.yaml sets
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    env = compose["services"]["homesec"]["environment"]
    named = [config["server"]["api_key_env"], config["state"]["url_env"],
             config["notifiers"][0]["url_env"], config["notifiers"][0]["token_env"]]
    assert set(named) <= set(env)
    # And its folders are all under the one data volume
    assert config["storage"]["path"].startswith("/data/")
    assert config["state"]["outbox_path"].startswith("/data/")
    assert config["config_overrides_path"].startswith("/data/")


def test_dockerfile_runs_as_a_user_with_one_volume_and_a_health_check() -> None:
    # Given the standalone Dockerfile
    steps = imagereplay.parse_dockerfile(REPO / "Dockerfile")
    kinds = [s.kind for s in steps]
    # Then it builds on Debian, runs as the homesec user, keeps its state in /data only,
    # checks the health endpoint and starts the engine with the image's config
    assert imagereplay.debian_release(standalone_recipe().base_image) == "trixie"
    assert next(s.text for s in steps if s.kind == "USER") == "homesec"
    assert [s.text for s in steps if s.kind == "VOLUME"] == ["/data"]
    assert "/api/v1/health" in next(s.text for s in steps if s.kind == "HEALTHCHECK")
    assert json.loads(next(s.text for s in steps if s.kind == "CMD")) == [
        "homesec", "run", "--config", "/etc/homesec/homesec.yaml"]
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN")
    # And the compose example keeps the data in named volumes with PostgreSQL next to it
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["homesec"]["volumes"] == ["homesec-data:/data"]
    assert compose["services"]["db"]["image"].startswith("postgres:")


# --- The replay -------------------------------------------------------------------------------

@dataclass
class HomeAssistantStandIn:
    """Home Assistant's REST API as the notifier uses it: POST /api/events/<type>, bearer."""

    token: str
    url: str = ""
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0

    async def fire(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused += 1
            return web.json_response({"message": "Unauthorized"}, status=401)
        self.events.append((request.match_info["event_type"], await request.json()))
        return web.json_response({"message": "Event fired."})


@pytest.fixture
async def home_assistant() -> AsyncIterator[HomeAssistantStandIn]:
    stand_in = HomeAssistantStandIn(token=uuid.uuid4().hex)
    app = web.Application()
    app.router.add_post("/api/events/{event_type}", stand_in.fire)
    async with serve_loopback(app) as stand_in.url:
        yield stand_in


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    name = f"homesec_image_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_DB)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
def standalone_image(request: pytest.FixtureRequest) -> Iterator[Image]:
    if "image" not in (request.config.getoption("-m") or ""):
        pytest.skip("replays a whole image (minutes, network): select it with -m image")
    reason = imagereplay.can_replay()
    if reason:
        pytest.skip(reason)
    work = imagereplay.new_workdir("standalone-")
    try:
        yield imagereplay.replay(standalone_recipe(), work)
    finally:
        imagereplay._remove_tree(work)


async def _start(image: Image, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    # As `docker run` would: the CMD, as the image's USER, in its WORKDIR, plus one config
    # layer that moves the API to a spare port (this machine's 8080 may be taken) and adds the
    # demo camera, as a Core user would add a file of their own.
    argv = [*image.cmd(), "--config", "/data/local.yaml"]
    with open(log, "ab") as out:
        return await asyncio.create_subprocess_exec(
            *image.command(argv, env=env), stdout=out, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 120)


async def _wait_healthy(session: aiohttp.ClientSession, api: str,
                        process: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(240):
        while True:
            if process.returncode is not None:
                raise AssertionError(f"exited {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                async with session.get(f"{api}/health") as response:
                    if response.status == 200 and (await response.json())["status"] == "healthy":
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)


@pytest.mark.image
async def test_standalone_image_runs_as_its_user_alerts_home_assistant_and_keeps_data(
    standalone_image: Image, home_assistant: HomeAssistantStandIn, database: str,
) -> None:
    image = standalone_image
    port, key = closed_port(), uuid.uuid4().hex
    local = image.path("/data/local.yaml")
    local.write_text(yaml.safe_dump({
        "server": {"port": port},
        "cameras": [{"name": "drive", "source_backend": "demo",
                     "source_config": {"interval_s": 3, "subject": "person"}}]}))
    # Given the environment compose.yaml sets (database, API key, Home Assistant URL and token)
    env = {"HOMESEC_API_KEY": key, "HOMESEC_DATABASE_URL": database,
           "HOMESEC_HA_URL": home_assistant.url, "HOMESEC_HA_TOKEN": home_assistant.token}
    log = image.root.parent / "standalone.log"
    api = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {key}"}
    process = await _start(image, env, log)
    try:
        async with aiohttp.ClientSession() as session:
            # When the container starts / Then it becomes healthy
            await _wait_healthy(session, api, process, log)
            # And the image's HEALTHCHECK passes, run as the image's user (on the image's port)
            check = image.healthcheck()
            check[-1] = check[-1].replace(":8080/", f":{port}/")
            image.run(check, timeout=60, what="HEALTHCHECK")
            # And a demo clip is analysed and alerted to Home Assistant with the token
            async with asyncio.timeout(180):
                while not any(kind == "homesec_alert" for kind, _ in home_assistant.events):
                    await asyncio.sleep(0.5)
            alert = next(body for kind, body in home_assistant.events
                         if kind == "homesec_alert")
            assert alert["camera"] == "drive" and alert["detected_objects"] == ["person"]
            # And the clip file in the volume belongs to the unprivileged user
            clip_file = image.path(f"/data/clips/{alert['clip_id']}.mp4")
            assert clip_file.is_file() and clip_file.stat().st_uid == \
                image.path("/data").stat().st_uid != 0
            # When the container is stopped / Then it exits cleanly
            assert await _stop(process) == 0, log.read_text()[-4000:]

            # When it starts again on the same volume and database
            process = await _start(image, env, log)
            await _wait_healthy(session, api, process, log)
            # Then the clip is still listed and its video still served
            async with session.get(f"{api}/clips", headers=headers) as response:
                clips = (await response.json())["clips"]
            assert alert["clip_id"] in [c["id"] for c in clips]
            assert await _stop(process) == 0, log.read_text()[-4000:]
            assert home_assistant.refused == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
