"""Cameras: list, create, read, update, delete (changes go through ConfigManager)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..config.manager import ChangeResult
from ..schema import validate
from .context import ApiContext, context
from .errors import not_found
from .inputs import camera_name, expected_version, read_json
from .views import camera_view, json_response


def _camera(ctx: ApiContext, name: str) -> dict[str, Any] | None:
    for camera in ctx.config().get("cameras", []):
        if camera["name"] == name:
            return dict(camera)
    return None


def change_body(ctx: ApiContext, result: ChangeResult) -> dict[str, Any]:
    body: dict[str, Any] = {"restart_required": result.restart_required,
                            "restart_fields": result.restart_fields,
                            "config_version": result.config_version}
    if result.camera is not None:
        body["camera"] = camera_view(result.camera, ctx.runtime.cameras().get(
            result.camera["name"]), ctx.config())
    return body


async def list_cameras(request: web.Request) -> web.Response:
    ctx = context(request)
    states = ctx.runtime.cameras()
    config = ctx.config()
    cameras = [camera_view(c, states.get(c["name"]), config)
               for c in config.get("cameras", [])]
    return json_response({"cameras": cameras})


async def create_camera(request: web.Request) -> web.Response:
    ctx = context(request)
    body = validate("CameraCreate", await read_json(request))
    version = expected_version(request, body)
    body.pop("config_version", None)
    result = await ctx.runtime.config_manager.add_camera(body, version)
    return json_response(change_body(ctx, result), status=201)


async def get_camera(request: web.Request) -> web.Response:
    ctx = context(request)
    name = camera_name(request)
    camera = _camera(ctx, name)
    if camera is None:
        raise not_found(f"no camera named {name!r}")
    return json_response(camera_view(camera, ctx.runtime.cameras().get(name), ctx.config()))


async def update_camera(request: web.Request) -> web.Response:
    ctx = context(request)
    name = camera_name(request)
    body = validate("CameraUpdate", await read_json(request), partial=True)
    version = expected_version(request, body)
    body.pop("config_version", None)
    result = await ctx.runtime.config_manager.update_camera(name, body, version)
    return json_response(change_body(ctx, result))


async def delete_camera(request: web.Request) -> web.Response:
    ctx = context(request)
    name = camera_name(request)
    body = await read_json(request, optional=True)
    if body is not None:
        body = validate("VersionOnly", body)
    result = await ctx.runtime.config_manager.remove_camera(name, expected_version(request, body))
    return json_response(change_body(ctx, result))


HANDLERS = {
    "list_cameras": list_cameras,
    "create_camera": create_camera,
    "get_camera": get_camera,
    "update_camera": update_camera,
    "delete_camera": delete_camera,
}
