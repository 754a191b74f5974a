"""What the real-`hass` end-to-end tests share: a camera of real footage, the engine recording
it, and HomeSec added to a real `hass` (tests/e2e/real_hass.py) through its config flow.

A test module imports the fixtures it uses (`engine` pulls in `camera` and `plaza`) and the two
autouse guards (`loopback`, `frontend_installed`):

    from tests.e2e.real_hass_rig import camera, engine, frontend_installed, loopback, plaza
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.ha_harness import engine_for_ha, entry_data
from tests.e2e.real_hass import RealHass, until
from tests.engine_harness import RunningEngine
from tests.livestream import PersonStream, person_stream
from tests.videotools import RtspTestServer

SCAN_INTERVAL_S = 5
CAMERA = "plaza"
API_KEY = "e2e-engine-key-5c1d"


@pytest.fixture(autouse=True)
def loopback(socket_enabled: None) -> None:
    """HA's pytest plugin blocks sockets; here everything talks over loopback TCP."""


@pytest.fixture(autouse=True)
def frontend_installed() -> None:
    """Without its frontend package a real `hass` starts in recovery mode, which loads no
    custom integration; the lanes pin it in requirements/ha-<lane>.txt."""
    if importlib.util.find_spec("hass_frontend") is None:
        pytest.skip("this lane has no home-assistant-frontend: a real hass would start in "
                    "recovery mode, without custom integrations")


@pytest.fixture(scope="module")
def plaza(tmp_path_factory: pytest.TempPathFactory) -> PersonStream:
    # A short period: an empty plaza, people walking, the empty plaza again.
    return person_stream(tmp_path_factory.mktemp("plaza"), empty_s=2.0, person_s=4.0,
                         after_s=4.0)


@pytest.fixture
def camera(plaza: PersonStream) -> Iterator[RtspTestServer]:
    with RtspTestServer(plaza.path, loop=True) as server:
        yield server


@pytest.fixture
async def engine(tmp_path: Path, camera: RtspTestServer) -> AsyncIterator[RunningEngine]:
    cameras = [{"name": CAMERA, "enabled": True, "source_backend": "rtsp",
                "source_config": {"url": camera.url, "pre_roll_s": 0.5, "post_roll_s": 1.0,
                                  "min_motion_s": 0.3, "max_clip_s": 8}}]
    async with engine_for_ha(tmp_path, cameras=cameras, run_sources=True,
                             api_key=API_KEY) as running:
        yield running


async def add_homesec(hass: RealHass, engine: RunningEngine, *,
                      sidebar_panel: bool = False) -> str:
    """The config flow and the options flow (its "Home Assistant side"), as the UI drives them
    over REST; the entry id."""
    form = await hass.rest("POST", "/api/config/config_entries/flow", {"handler": "homesec"})
    assert form["type"] == "form", form
    done = await hass.rest("POST", f"/api/config/config_entries/flow/{form['flow_id']}",
                           entry_data(engine))
    assert done["type"] == "create_entry", done
    entry_id = str(done["result"]["entry_id"])
    menu = await hass.rest("POST", "/api/config/config_entries/options/flow",
                           {"handler": entry_id})
    assert menu["type"] == "menu", menu
    step = f"/api/config/config_entries/options/flow/{menu['flow_id']}"
    form = await hass.rest("POST", step, {"next_step_id": "integration"})
    assert form["type"] == "form", form
    saved = await hass.rest("POST", step, {"scan_interval": SCAN_INTERVAL_S,
                                           "motion_reset_s": 30, "sidebar_panel": sidebar_panel})
    assert saved["type"] == "create_entry", saved
    return entry_id


async def entity(hass: RealHass, domain: str, name: str, contains: str = "") -> str:
    """The entity id, once HA lists it (the entry's platforms load after the flow ends)."""
    found: list[str] = []

    async def listed() -> bool:
        try:
            found.append(await hass.entity_named(domain, name, contains=contains))
        except AssertionError:
            return False
        return True

    await until(f"{domain} '{name}' in HA", listed, 30, hass)
    return found[-1]
