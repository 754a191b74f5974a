"""The add-on image built and started without Docker (`pytest -m image`; root, slow).

tests/imagereplay.py debootstraps the Debian release that build.yaml's base image names and
replays addon/homesec/Dockerfile there under chroot (the engine from this working tree instead
of the release archive). Then the add-on starts as the image would: postgres-init, the bundled
PostgreSQL and the entry point through the real rootfs/ scripts, with options.json in /data and
the Supervisor stand-in (discovery and the core API) on loopback.

Only loopback ports differ from the add-on: the chroot shares this machine's network, where
5432 and 8080 may be taken, so the test gives the bundled PostgreSQL and the API spare ports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests import imagereplay
from tests.imagereplay import Image

from .addon_image import Addon, addon_recipe, install_stand_ins
from .conftest import SupervisorStandIn, addon_manifest, closed_port

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(imagereplay.can_replay() is not None,
                       reason=str(imagereplay.can_replay())),
]


@pytest.fixture(scope="module")
def addon_image(request: pytest.FixtureRequest) -> Iterator[Image]:
    if "image" not in (request.config.getoption("-m") or ""):
        pytest.skip("replays a whole image (minutes, network): select it with -m image")
    work = imagereplay.new_workdir("addon-")
    try:
        image = imagereplay.replay(addon_recipe(), work)
        install_stand_ins(image)
        yield image
    finally:
        imagereplay._remove_tree(work)


async def _get(session: aiohttp.ClientSession, url: str, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with session.get(url, headers=headers) as response:
        return response.status, await response.json()


async def _wait_healthy(addon: Addon, session: aiohttp.ClientSession, api: str) -> dict[str, Any]:
    async with asyncio.timeout(240):
        while True:
            for service in addon.running:
                if service.process.returncode is not None:
                    raise AssertionError(f"{service.name} exited ({service.process.returncode})"
                                         f":\n{addon.log_text()}")
            try:
                status, body = await _get(session, f"{api}/health")
                if status == 200 and body["status"] == "healthy":
                    return dict(body)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)


async def test_addon_image_installs_starts_alerts_stops_and_keeps_its_data(
    addon_image: Image, supervisor: SupervisorStandIn,
) -> None:
    # Given the replayed image, the default options the Supervisor writes, and the environment
    # the Supervisor gives the container (token, and spare loopback ports for this machine)
    pg_port, api_port = closed_port(), closed_port()
    addon = Addon(addon_image, logs=addon_image.root.parent / "logs", container_env={
        "SUPERVISOR_TOKEN": supervisor.token,
        "SUPERVISOR_URL": supervisor.url,
        "HOMESEC_SUPERVISOR_CORE_URL": f"{supervisor.url}/core",
        "HOSTNAME": "a0d7b954-homesec",
        "HOMESEC_PG_PORT": str(pg_port),
        "HOMESEC_ADDON_BUNDLED_DB_URL": f"postgresql://homesec@127.0.0.1:{pg_port}/homesec",
        "HOMESEC_ADDON_PORT": str(api_port),
    })
    addon.write_options(dict(addon_manifest()["options"]))
    api = f"http://127.0.0.1:{api_port}/api/v1"
    try:
        async with aiohttp.ClientSession() as session:
            # When the add-on starts for the first time
            await addon.start()
            # Then it becomes healthy on the bundled database
            health = await _wait_healthy(addon, session, api)
            assert health["database"] == "up"
            # And it announced itself to Home Assistant with the API key it generated
            assert len(supervisor.received) == 1, addon.log_text()
            announced = supervisor.received[0]["config"]
            key = (addon.data / "api_key").read_text(encoding="utf-8").strip()
            assert announced["api_key"] == key
            assert announced["port"] == api_port and announced["host"] == "a0d7b954-homesec"
            # And the bundled cluster lives in /data, made by the image's PostgreSQL
            assert (addon.data / "postgres" / "PG_VERSION").read_text().strip() == \
                addon.image.env["PG_BIN"].split("/")[-2]

            # When the user adds the demo camera through the API with the announced key
            async with session.post(f"{api}/cameras", headers={"Authorization": f"Bearer {key}"},
                                    json={"name": "porch", "source_backend": "demo",
                                          "source_config": {"interval_s": 3,
                                                            "subject": "person"}}) as response:
                assert response.status == 201, await response.text()
                # Then the running engine starts it at once: no restart is asked for
                assert (await response.json())["restart_required"] is False
            # When the add-on is restarted
            codes = await addon.stop()
            # Then both services stopped cleanly on SIGTERM
            assert codes == {"homesec": 0, "postgres": 0}, addon.log_text()

            # When it starts again
            await addon.start()
            await _wait_healthy(addon, session, api)
            # Then the camera is still there, and the key and discovery message are unchanged
            status, cameras = await _get(session, f"{api}/cameras", key)
            assert status == 200 and [c["name"] for c in cameras["cameras"]] == ["porch"]
            assert supervisor.received[-1]["config"]["api_key"] == key
            assert len(supervisor.messages) == 1
            # And a clip is recorded, analysed by the detector, and alerted to Home Assistant
            # through the Supervisor's core API with the add-on's token
            async with asyncio.timeout(180):
                while not any(kind == "homesec_alert" for kind, _ in supervisor.events):
                    await asyncio.sleep(0.5)
            alert = next(body for kind, body in supervisor.events if kind == "homesec_alert")
            assert alert["camera"] == "porch" and alert["detected_objects"] == ["person"]
            status, clip = await _get(session, f"{api}/clips/{alert['clip_id']}", key)
            assert status == 200 and clip["status"] == "done" and clip["alerted"]
            assert clip["detected_objects"] == ["person"]
            codes = await addon.stop()
            assert codes == {"homesec": 0, "postgres": 0}, addon.log_text()

            # When it starts a third time
            await addon.start()
            await _wait_healthy(addon, session, api)
            # Then the recorded clip is still in the bundled database
            status, clips = await _get(session, f"{api}/clips", key)
            assert status == 200
            assert alert["clip_id"] in [c["id"] for c in clips["clips"]]
            assert (await addon.stop()) == {"homesec": 0, "postgres": 0}
            assert supervisor.refused == []
    finally:
        addon.kill_all()
