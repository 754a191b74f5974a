"""How engine objects look in API bodies (the shapes of schema/api.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web

import orjson  # ~9x faster than json.dumps for a page of clips; see clips_body()

from .. import plugins
from ..config.diff import camera_rules
from ..records import ClipRecord
from ..timefmt import iso_z
from ..sources import webrtc
from ..runtime import CameraState
from ..alerts.event import clip_tier
from ..clipfiles import view_url


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`, as every timestamp in the API."""
    return iso_z(value) if value is not None else None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


dumps = partial(json.dumps, default=_default, ensure_ascii=False, allow_nan=False)


def json_response(body: Any, *, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=dumps)


def clips_body(body: dict[str, Any]) -> bytes:
    """A /clips or /clips/{id} body as JSON bytes, through orjson (the API's heaviest body).

    Datetimes go to the encoder natively (clip_view(iso_times=False)): the state layer returns
    them in UTC, written with a `Z` as iso() does.
    """
    return bytes(orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z))


def clips_response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def backend_capabilities(backend: str) -> dict[str, bool]:
    """What a source backend can show live: a picture, a restream (also over WebRTC where the
    engine has aiortc); and whether it is drawn."""
    try:
        cls: Any = plugins.get("source", backend)
    except Exception:  # noqa: BLE001 - an unknown backend shows nothing live
        return {"live_picture": False, "live_stream": False, "live_webrtc": False,
                "synthetic": False}
    found = {key: bool(getattr(cls, key, False))
             for key in ("live_picture", "live_stream", "synthetic")}
    return {**found, "live_webrtc": found["live_stream"] and webrtc.available()}


def camera_view(camera: dict[str, Any], state: CameraState | None,
                config: dict[str, Any]) -> dict[str, Any]:
    """CameraView: the configured camera plus its live health (secrets are env-var names) and
    its own keep times (`retention.cameras` of the merged `config`)."""
    return {
        "name": camera["name"],
        "enabled": camera.get("enabled", True),
        "source_backend": camera["source_backend"],
        "source_config": camera.get("source_config", {}),
        "healthy": bool(state.healthy) if state is not None else False,
        "last_heartbeat": iso(state.last_heartbeat) if state is not None else None,
        "zones": camera.get("zones", []),
        "motion_masks": camera.get("motion_masks", []),
        "retention": camera_rules(config, camera["name"]),
        "error": state.error if state is not None else None,
        "degraded": state.degraded if state is not None else None,
        "lag_s": state.lag_s if state is not None else None,
        "analysis_dropped_pct": None if state is None or state.analysis_dropped is None
        else round(state.analysis_dropped * 100, 1),
        "detection_rate": state.detection_rate if state is not None else None,
        "detection_delay_s": state.detection_delay_s if state is not None else None,
        **backend_capabilities(camera["source_backend"]),
    }


def clip_view(clip: ClipRecord, public_url: str | None = None, *,
              iso_times: bool = True) -> dict[str, Any]:
    """The Clip body; `iso_times=False` leaves created_at a datetime for clips_body()."""
    created_at = clip.created_at
    return {
        "id": clip.id,
        "camera": clip.camera,
        "status": str(clip.status),
        "created_at": iso(created_at) if iso_times or created_at.tzinfo is not UTC
        else created_at,
        "activity_type": clip.activity_type,
        "risk_level": clip.risk_level,
        "summary": clip.summary,
        "detected_objects": list(clip.detected_objects),
        "storage_uri": clip.storage_uri,
        # The same link the alerts carry (absolute when server.public_url is set).
        "view_url": view_url(clip.id, public_url) if clip.storage_uri else None,
        "alerted": bool(clip.alerted),
        "duration_s": clip.duration_s,
        "objects": list(clip.objects),
        "zones": list(clip.zones),
        "event": dict(clip.event) if clip.event else None,
        "tier": clip_tier(clip.alerted, clip.event, clip.objects),
    }
