"""HomeSec service actions (registered once in async_setup, not per config entry).

Schemas are the generated declarations (schema_data.SERVICES -> MODELS) run through the
same validator code the engine uses, so HA refuses exactly what the engine would refuse.
Engine answers become translated errors: 400 names the field, 409 says the configuration
changed elsewhere, 404 names the camera or clip, connection problems say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Final, cast

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .compat import vol
from .api import (
    HomeSecAuthenticationError,
    HomeSecConflictError,
    HomeSecConnectionError,
    HomeSecDataValidationError,
    HomeSecError,
    HomeSecNotFoundError,
)
from .const import DOMAIN
from .coordinator import HomeSecConfigEntry
from .generated.api_models import (
    AlertPolicyView,
    CameraCreate,
    CameraUpdate,
    ClipQuery,
    RetentionRules,
)
from .generated.schema_data import MODELS, SERVICES
from .generated.vol_render import model_validator
from .repairs import async_after_change
from .views import async_signed_alert_urls

SERVICE_ADD_CAMERA: Final = "add_camera"
SERVICE_UPDATE_CAMERA: Final = "update_camera"
SERVICE_REMOVE_CAMERA: Final = "remove_camera"
SERVICE_SET_ALERT_POLICY: Final = "set_alert_policy"
SERVICE_UPDATE_SETTINGS: Final = "update_settings"
SERVICE_DELETE_CLIP: Final = "delete_clip"
SERVICE_RESTART_ENGINE: Final = "restart_engine"
SERVICE_GET_CLIPS: Final = "get_clips"
SERVICE_SILENCE_CAMERA: Final = "silence_camera"


def service_schema(service: str) -> vol.Schema:
    """The generated validator of a service, as the voluptuous schema HA expects."""
    return vol.Schema(model_validator(MODELS, SERVICES[service]))


def _loaded_entry(hass: HomeAssistant) -> HomeSecConfigEntry:
    entries: list[HomeSecConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_loaded"
        )
    return entries[0]


def _translate(err: HomeSecError, subject: str, not_found_key: str) -> HomeAssistantError:
    """An engine error -> the translated error the user sees."""
    if isinstance(err, HomeSecDataValidationError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_input",
            translation_placeholders={"errors": err.reasons},
        )
    if isinstance(err, HomeSecConflictError):
        if err.error_code == "CAMERA_EXISTS":
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="camera_exists",
                translation_placeholders={"name": subject},
            )
        return ServiceValidationError(
            translation_domain=DOMAIN, translation_key="config_version_conflict"
        )
    if isinstance(err, HomeSecNotFoundError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=not_found_key,
            translation_placeholders={"name": subject},
        )
    if isinstance(err, HomeSecAuthenticationError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="invalid_auth")
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=(
            "cannot_connect" if isinstance(err, HomeSecConnectionError) else "unexpected_error"
        ),
        translation_placeholders={"error": str(err)},
    )


async def _call[T](
    call: Awaitable[T], subject: str = "", not_found_key: str = "camera_not_found"
) -> T:
    try:
        return await call
    except HomeSecError as err:
        raise _translate(err, subject, not_found_key) from err


async def _add_camera(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass)
    body: CameraCreate = {
        "name": call.data["name"],
        "source_backend": call.data["source_backend"],
        "source_config": call.data["source_config"],
        "enabled": call.data["enabled"],
        "zones": call.data["zones"],
        "motion_masks": call.data["motion_masks"],
    }
    result = await _call(entry.runtime_data.client.create_camera(body), body["name"])
    await async_after_change(call.hass, entry, result["restart_required"])


async def _update_camera(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass)
    name: str = call.data["name"]
    update: CameraUpdate = {}
    if "enabled" in call.data:
        update["enabled"] = call.data["enabled"]
    if "source_config" in call.data:
        update["source_config"] = call.data["source_config"]
    if "zones" in call.data:
        update["zones"] = call.data["zones"]
    if "motion_masks" in call.data:
        update["motion_masks"] = call.data["motion_masks"]
    if rules := {k: call.data[k] for k in MODELS["RetentionRules"]["fields"] if k in call.data}:
        update["retention"] = cast(RetentionRules, rules)
    result = await _call(entry.runtime_data.client.update_camera(name, update), name)
    await async_after_change(call.hass, entry, result["restart_required"])


async def _remove_camera(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass)
    name: str = call.data["name"]
    result = await _call(entry.runtime_data.client.delete_camera(name), name)
    await async_after_change(call.hass, entry, result["restart_required"])


async def _set_alert_policy(call: ServiceCall) -> None:
    """Read the whole policy, change the global part or one camera's override, write it back.

    The write carries the config_version that was read, so a change made elsewhere in
    between is refused (409) instead of silently overwritten.
    """
    entry = _loaded_entry(call.hass)
    client = entry.runtime_data.client
    camera: str | None = call.data.get("camera")
    current = await _call(client.get_alert_policy())
    policy = current["alert_policy"]
    change = {
        "min_risk_level": call.data["min_risk_level"],
        "activity_types": list(call.data["activity_types"]),
    }
    cameras = dict(policy.get("cameras", {}))
    if camera:
        if camera not in _known_cameras(entry):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="camera_not_found",
                translation_placeholders={"name": camera},
            )
        cameras[camera] = {**cameras.get(camera, {}), **change}  # type: ignore[typeddict-item]
        policy = {**policy, "cameras": cameras}
    else:
        policy = {**policy, **change}  # type: ignore[typeddict-item]
    update: AlertPolicyView = {"config_version": current["config_version"],
                               "alert_policy": policy}
    result = await _call(client.set_alert_policy(update), camera or "")
    await async_after_change(call.hass, entry, result["restart_required"])


async def _update_settings(call: ServiceCall) -> None:
    """Retention and the detector's thresholds: the engine applies them at once."""
    entry = _loaded_entry(call.hass)
    result = await _call(entry.runtime_data.client.update_engine_settings(call.data))
    await async_after_change(call.hass, entry, result["restart_required"])


def _known_cameras(entry: HomeSecConfigEntry) -> set[str]:
    data = entry.runtime_data.coordinator.data
    return {camera["name"] for camera in data["cameras"]} if data else set()


async def _delete_clip(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass)
    clip_id: str = call.data["clip_id"]
    await _call(entry.runtime_data.client.delete_clip(clip_id), clip_id, "clip_not_found")


async def _restart_engine(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass)
    await _call(entry.runtime_data.client.restart())


async def _get_clips(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call.hass)
    query: ClipQuery = {}
    for key, value in call.data.items():
        # The validator parsed datetimes; the API takes ISO 8601 text.
        query[key] = value.isoformat() if isinstance(value, datetime) else value  # type: ignore[literal-required]
    page = await _call(entry.runtime_data.client.list_clips(query))
    return {
        "clips": [_with_links(call.hass, entry, cast(dict[str, Any], clip))
                  for clip in page["clips"]],
        "total": page["total"],
        "page": page["page"],
        "page_size": page["page_size"],
    }


def _with_links(hass: HomeAssistant, entry: HomeSecConfigEntry,
                clip: dict[str, Any]) -> dict[str, Any]:
    """The clip with links HA users can open (the engine's view_url is engine-relative):
    signed, expiring, on HA's phone-usable URL."""
    urls = async_signed_alert_urls(hass, entry.entry_id, str(clip["id"]))
    return {**clip, "view_url": urls["clip_url"], **urls}


async def _silence_camera(call: ServiceCall) -> ServiceResponse:
    """Silence (or ask about) a camera's notifications; answers until when it is silenced."""
    entry = _loaded_entry(call.hass)
    camera: str = call.data["camera"]
    if camera not in _known_cameras(entry):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="camera_not_found",
            translation_placeholders={"name": camera},
        )
    scope: str = call.data["scope"]
    silences = entry.runtime_data.silences
    now = dt_util.utcnow()
    if (seconds := call.data.get("duration_s")) is not None:
        silences.silence(camera, scope, seconds, now)
    until = silences.until(camera, scope, now)
    return {
        "camera": camera,
        "silenced": until is not None,
        "silenced_until": until.isoformat() if until else None,
    }


_HANDLERS: Final[dict[str, Callable[[ServiceCall], Coroutine[Any, Any, Any]]]] = {
    SERVICE_ADD_CAMERA: _add_camera,
    SERVICE_UPDATE_CAMERA: _update_camera,
    SERVICE_REMOVE_CAMERA: _remove_camera,
    SERVICE_SET_ALERT_POLICY: _set_alert_policy,
    SERVICE_UPDATE_SETTINGS: _update_settings,
    SERVICE_DELETE_CLIP: _delete_clip,
    SERVICE_RESTART_ENGINE: _restart_engine,
}
# Services that answer: the handler and whether the answer is optional or the point.
_RESPONDERS: Final[
    dict[str, tuple[Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
                    SupportsResponse]]
] = {
    SERVICE_GET_CLIPS: (_get_clips, SupportsResponse.ONLY),
    SERVICE_SILENCE_CAMERA: (_silence_camera, SupportsResponse.OPTIONAL),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every HomeSec service action (idempotent)."""
    for service, handler in _HANDLERS.items():
        if not hass.services.has_service(DOMAIN, service):
            hass.services.async_register(
                DOMAIN, service, handler, schema=service_schema(service)
            )
    for service, (responder, supports) in _RESPONDERS.items():
        if not hass.services.has_service(DOMAIN, service):
            hass.services.async_register(
                DOMAIN, service, responder, schema=service_schema(service),
                supports_response=supports,
            )
