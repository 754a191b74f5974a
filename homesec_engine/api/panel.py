"""The panel's static files, served at `/` (also through Home Assistant's ingress).

Every link and fetch in the panel is relative; when the request comes through ingress the
`X-Ingress-Path` header names the prefix, and index.html gets a matching `<base href>`.
"""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

from aiohttp import web

from .errors import not_found

PANEL_DIR = Path(__file__).resolve().parent.parent / "panel"
# The panel's ES modules (one per view) and its other static files.
_MODULES = ("app", "api", "dom", "live", "clips", "timeline", "zones", "policy")
_FILES = {f"{name}.js": "text/javascript" for name in _MODULES} | {
    "style.css": "text/css", "icon.svg": "image/svg+xml"}
# The prefix lands in HTML: only a plain path is accepted (anything else is ignored).
_INGRESS_PATH = re.compile(r"^/[A-Za-z0-9_\-./]{0,200}$")
_BASE_MARKER = "<!--base-->"


def base_href(request: web.Request) -> str | None:
    prefix = request.headers.get("X-Ingress-Path", "")
    # "//host" would make every relative link of the panel load from another host.
    if not _INGRESS_PATH.fullmatch(prefix) or ".." in prefix or "//" in prefix:
        return None
    return prefix.rstrip("/") + "/"


async def index(request: web.Request) -> web.Response:
    text = await asyncio.to_thread((PANEL_DIR / "index.html").read_text, "utf-8")
    href = base_href(request)
    base = f'<base href="{html.escape(href, quote=True)}">' if href else ""
    return web.Response(text=text.replace(_BASE_MARKER, base, 1), content_type="text/html",
                        headers={"Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["file"]
    if name not in _FILES:
        raise not_found("Not found")
    body = await asyncio.to_thread((PANEL_DIR / name).read_bytes)
    return web.Response(body=body, content_type=_FILES[name],
                        headers={"Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


def add_panel_routes(app: web.Application) -> list[web.AbstractRoute]:
    return [
        app.router.add_get("/", index),
        app.router.add_get("/{file:[a-z]+\\.[a-z]+}", static_file),
    ]
