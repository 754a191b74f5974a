"""End to end: the real engine (demo camera, real pipeline) -> real HA core with HomeSec.

No mocks between them: the engine renders a clip, detects, decides and alerts; the alert
reaches HA (a) over the engine's WebSocket and (b) through HA's own Events API, where the
engine's home_assistant notifier POSTs to HA's HTTP server listening on a real loopback port
(the aiohttp test server behind `hass_client`), authenticated with a real HA access token.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from homeassistant.const import STATE_ON, STATE_UNKNOWN
from homeassistant.core import EventOrigin, HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.e2e.ha_harness import engine_for_ha, homesec_entry, wait_for, wait_ws_connected

DEMO = [{"name": "demo", "enabled": True, "source_backend": "demo",
         "source_config": {"interval_s": 1.0, "clip_s": 1.0, "subject": "person"}}]


@pytest.fixture(autouse=True)
def _real_sockets_and_custom_integrations(
    socket_enabled: None, enable_custom_integrations: None
) -> None:
    """Loopback TCP between HA and the engine, and our custom integration loadable."""


def _entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, "homesec", unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def test_demo_alert_over_the_websocket_turns_motion_on_and_fires_the_event(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    # Given the engine with its demo camera running for real, and HomeSec set up against it
    async with engine_for_ha(tmp_path, cameras=DEMO, run_sources=True) as engine:
        async with homesec_entry(hass, engine) as entry:
            await wait_ws_connected(hass, entry)
            motion = _entity_id(hass, "binary_sensor", f"{entry.entry_id}_demo_motion")
            event = _entity_id(hass, "event", f"{entry.entry_id}_demo_alert")
            # When the demo camera records, the pipeline analyses and alerts
            await wait_for(hass, lambda: hass.states.get(motion).state == STATE_ON, 60)
            # Then the camera's motion sensor is on and its event entity fired with the alert
            fired = hass.states.get(event)
            assert fired.state not in (STATE_UNKNOWN, None)
            assert fired.attributes["clip_id"]
            assert "homesec_sig=" in fired.attributes["snapshot_url"]
            clip = await entry.runtime_data.client.get_clip(fired.attributes["clip_id"])
            assert clip["camera"] == "demo" and clip["alerted"] is True


async def test_demo_alert_through_has_events_api_reaches_the_entities_once(
    hass: HomeAssistant,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
    hass_access_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given HA's HTTP server on a real loopback port with its REST API, and a real token
    assert await async_setup_component(hass, "api", {})
    client = await hass_client()
    ha_url = str(client.make_url("/")).rstrip("/")
    url_env, token_env = (f"HOMESEC_E2E_{kind}_{uuid.uuid4().hex[:6].upper()}"
                          for kind in ("URL", "TOKEN"))
    monkeypatch.setenv(url_env, ha_url)
    monkeypatch.setenv(token_env, hass_access_token)
    notifier: dict[str, Any] = {"backend": "home_assistant", "url_env": url_env,
                                "token_env": token_env}
    bus_alerts = async_capture_events(hass, "homesec_alert")
    # And the engine's home_assistant notifier pointed at it
    async with engine_for_ha(tmp_path, cameras=DEMO, run_sources=True,
                             config={"notifiers": [notifier]}) as engine:
        async with homesec_entry(hass, engine) as entry:
            motion = _entity_id(hass, "binary_sensor", f"{entry.entry_id}_demo_motion")
            coordinator = entry.runtime_data.coordinator
            applied: list[str] = []
            entry.async_on_unload(async_dispatcher_connect(
                hass, coordinator.signal_alert,
                lambda camera, alert: applied.append(alert["clip_id"]),
            ))
            await wait_ws_connected(hass, entry)
            # When the demo camera alerts and the notifier POSTs homesec_alert to HA
            await wait_for(hass, lambda: len(bus_alerts) >= 2, 60)
            # Then the events came in through HA's Events API, from the engine
            first = bus_alerts[0]
            assert first.data["camera"] == "demo"
            assert first.origin is EventOrigin.remote
            # And the motion sensor is on
            await wait_for(hass, lambda: hass.states.get(motion).state == STATE_ON)
            # And every alert was applied once, though it also came over the WebSocket
            bus_ids = [e.data["clip_id"] for e in bus_alerts]
            await wait_for(hass, lambda: set(bus_ids) <= set(applied))
            assert len(applied) == len(set(applied))
