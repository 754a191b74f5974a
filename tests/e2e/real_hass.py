"""A real `hass` process for end-to-end tests, set up the way a user does it.

`running_hass(tmp_path)` starts `hass -c CONFIG --skip-pip` on a free loopback port with
HomeSec linked into its `custom_components`, onboards it through HA's onboarding API and yields
a `RealHass` that speaks HA's REST and WebSocket APIs with the owner's token. The port goes
into a confirmed `.storage/http` (an `http:` block in YAML is only a trial that HA reverts
after 5 minutes). Every wait is bounded and fails with the tail of HA's log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.videotools import free_port

REPO = Path(__file__).resolve().parents[2]
HASS = Path(sys.executable).with_name("hass")
# What the test drives, listed instead of `default_config` (which needs go2rtc's binary and
# more requirements): the REST API, onboarding, config flows, repairs, and the frontend with
# the camera, image and media-source components its device page and media browser show.
CONFIGURATION = ("homeassistant:\n  name: HomeSec e2e\napi:\nonboarding:\nconfig:\nrepairs:\n"
                 "frontend:\ncamera:\nimage:\nmedia_source:\n")
START_TIMEOUT_S = 90.0


@dataclass
class RealHass:
    url: str
    token: str
    session: aiohttp.ClientSession
    log_path: Path
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}{path}", json=body,
                                        headers=self.headers) as resp:
            text = await resp.text()
            assert resp.status < 300, (
                f"{method} {path} -> {resp.status}: {text}\n--- hass log tail ---\n"
                f"{self.log_tail()}")
            return json.loads(text) if text else None

    async def ws(self, command: dict[str, Any]) -> Any:
        """One WebSocket command on a fresh authenticated connection; its result."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as sock:
            assert (await sock.receive_json())["type"] == "auth_required"
            await sock.send_json({"type": "auth", "access_token": self.token})
            assert (await sock.receive_json())["type"] == "auth_ok"
            await sock.send_json({"id": 1, **command})
            reply = await sock.receive_json()
        assert reply.get("success"), f"{command['type']}: {reply}"
        return reply["result"]

    def browser_tokens(self) -> str:
        """A script that logs the frontend in as the owner (HA's frontend reads its tokens
        from localStorage.hassTokens), run before the page's own scripts."""
        tokens = {"access_token": self.token, "token_type": "Bearer", "expires_in": 1800,
                  "hassUrl": self.url, "clientId": f"{self.url}/", "refresh_token": "",
                  "expires": int((datetime.now(UTC).timestamp() + 1800) * 1000)}
        return f"localStorage.hassTokens = {json.dumps(json.dumps(tokens))};"

    async def state(self, entity_id: str) -> dict[str, Any]:
        return dict(await self.rest("GET", f"/api/states/{entity_id}"))

    async def entity_named(self, domain: str, name_ends: str, *, contains: str = "") -> str:
        """The entity id of `domain` whose friendly name ends with `name_ends`."""
        states = await self.rest("GET", "/api/states")
        found = [s["entity_id"] for s in states if s["entity_id"].startswith(f"{domain}.")
                 and str(s["attributes"].get("friendly_name", "")).endswith(name_ends)
                 and contains in s["entity_id"]]
        assert len(found) == 1, f"one {domain} named '*{name_ends}' expected, got {found}"
        return found[0]


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float,
                hass: RealHass | None = None, every: float = 0.5) -> None:
    """Poll `check` until it holds; fail naming `what` (and HA's log tail) after `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(every)
    except TimeoutError:
        tail = f"\n--- hass log tail ---\n{hass.log_tail()}" if hass else ""
        raise AssertionError(f"not within {timeout:.0f} s: {what}{tail}") from None


def _write_config(config_dir: Path, port: int, extra: str, files: Mapping[str, str]) -> None:
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / "custom_components" / "homesec").symlink_to(
        REPO / "custom_components" / "homesec", target_is_directory=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION + extra, encoding="utf-8")
    for name, text in files.items():
        (config_dir / name).write_text(text, encoding="utf-8")
    storage = config_dir / ".storage"
    storage.mkdir()
    # The port as a confirmed (stable) HTTP configuration, the form HA itself stores.
    (storage / "http").write_text(json.dumps({
        "version": 2, "minor_version": 2, "key": "http",
        "data": {"stable": {"server_host": ["127.0.0.1"], "server_port": port,
                            "cors_allowed_origins": [], "login_attempts_threshold": -1,
                            "ip_ban_enabled": True, "ssl_profile": "modern",
                            "use_x_frame_options": True,
                            "created_at": datetime.now(UTC).isoformat(),
                            "error": None, "error_message": None},
                 "pending": None, "yaml_migration_done": True},
    }), encoding="utf-8")


async def _onboard(session: aiohttp.ClientSession, url: str) -> str:
    """The owner made and every onboarding step done through HA's onboarding API; a token."""
    client_id = f"{url}/"
    async with session.post(f"{url}/api/onboarding/users", json={
            "client_id": client_id, "name": "Owner", "username": "owner",
            "password": "e2e-owner-password", "language": "en"}) as resp:
        assert resp.status == 200, f"onboarding user: {resp.status} {await resp.text()}"
        code = (await resp.json())["auth_code"]
    async with session.post(f"{url}/auth/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": client_id}) as resp:
        assert resp.status == 200, f"token: {resp.status} {await resp.text()}"
        token = str((await resp.json())["access_token"])
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (("core_config", {}), ("analytics", {}),
                       ("integration", {"client_id": client_id, "redirect_uri": client_id})):
        async with session.post(f"{url}/api/onboarding/{step}", json=body,
                                headers=headers) as resp:
            assert resp.status == 200, f"onboarding {step}: {resp.status} {await resp.text()}"
    async with session.get(f"{url}/api/onboarding") as resp:
        assert all(step["done"] for step in await resp.json()), "onboarding left a step open"
    return token


@asynccontextmanager
async def running_hass(tmp_path: Path, extra_config: str = "",
                       files: Mapping[str, str] | None = None) -> AsyncIterator[RealHass]:
    """`extra_config` is added to configuration.yaml; `files` (name: text) go beside it."""
    config_dir = tmp_path / "hass"
    port = free_port()
    _write_config(config_dir, port, extra_config, files or {})
    log_path = tmp_path / "hass.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(HASS), "-c", str(config_dir), "--skip-pip"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession() as session:
            hass = RealHass(url, "", session, log_path)

            async def answers() -> bool:
                assert proc.poll() is None, f"hass exited with {proc.returncode}"
                try:
                    async with session.get(f"{url}/api/onboarding") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await until("hass answers HTTP", answers, START_TIMEOUT_S, hass)
            hass.token = await _onboard(session, url)
            yield hass
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
