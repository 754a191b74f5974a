"""Live messages of every engine on every engine, through PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from homesec_engine.cluster.relay import EventRelay
from homesec_engine.events import EventHub
from homesec_engine.state.db import normalize_url
from tests.services import pg_url


@pytest.fixture
async def relays(cluster_db: str) -> AsyncIterator[list[tuple[EventHub, EventRelay]]]:
    url = normalize_url(pg_url(cluster_db))
    made = []
    for engine_id in ("a", "b"):
        hub = EventHub()
        relay = EventRelay(engine_id, url, hub)
        await relay.start()
        await relay.wait_listening(10)
        made.append((hub, relay))
    yield made
    for _hub, relay in made:
        await relay.close()


async def _next(sub: object, timeout: float = 10.0) -> dict[str, object]:
    return await asyncio.wait_for(sub.get(), timeout)  # type: ignore[attr-defined]


async def test_an_alert_on_one_engine_reaches_the_others_clients_once(
        relays: list[tuple[EventHub, EventRelay]]) -> None:
    (hub_a, relay_a), (hub_b, relay_b) = relays
    client_a, client_b = hub_a.subscribe(), hub_b.subscribe()
    alert = {"camera": "front", "clip_id": "c1", "risk_level": "high"}
    # When engine a publishes an alert for its camera
    hub_a.publish("alert", alert)
    # Then a client of engine b receives it as it was published
    assert await _next(client_b) == {"type": "alert", "data": alert}
    # And a client of engine a receives it once: the relay does not send it back
    assert await _next(client_a) == {"type": "alert", "data": alert}
    # And the other way round, each client hearing it once
    hub_b.publish("camera_health", {"camera": "back", "healthy": True})
    assert (await _next(client_a))["type"] == "camera_health"
    assert (await _next(client_b))["type"] == "camera_health"
    await asyncio.sleep(0.5)
    assert client_a.queue.empty() and client_b.queue.empty()
    assert (relay_a.sent, relay_b.received) == (1, 1)


async def test_a_message_too_large_for_notify_stays_on_its_engine(
        relays: list[tuple[EventHub, EventRelay]]) -> None:
    (hub_a, relay_a), (hub_b, _relay_b) = relays
    client_b = hub_b.subscribe()
    # When engine a publishes a message bigger than NOTIFY carries, then a small one
    hub_a.publish("alert", {"summary": "x" * 9000})
    hub_a.publish("alert", {"summary": "small"})
    # Then engine b gets the small one, and the big one is counted, not lost silently
    assert (await _next(client_b))["data"] == {"summary": "small"}
    assert relay_a.too_large == 1
