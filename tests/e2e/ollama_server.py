"""A stand-in for a cloud LLM behind Ollama's HTTP API, for HA's real `ollama` integration.

No model can run here, so this aiohttp server plays one, speaking Ollama's protocol as the
`ollama` client reads it: `GET /api/tags` lists one downloaded model, `POST /api/chat` streams
JSON lines (`application/x-ndjson`), the last with `done: true`. Its "model" is a script:

- a question with HomeSec's tools offered: it asks for `homesec__recent_events` of the camera
  the question names ("... at the plaza?" -> `{"camera": "plaza"}`);
- a tool's result: it answers with text built from that result only (how many events, and
  the newest judged one's time, what was seen and its summary), so what Assist shows comes
  from the engine's records;
- a request with an image attached (`ai_task.generate_data` with a snapshot): it answers with
  what it got, the picture's format and size as it decodes the bytes HA sent.

Every request body is kept in `requests`, for the test to check what HA sent.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from PIL import Image

MODEL = "qwen3:4b-instruct"  # HA's default model: the subentry form suggests it
RECENT_EVENTS = "homesec__recent_events"


@dataclass
class OllamaServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


def _line(content: str = "", *, done: bool = False,
          tool_calls: list[dict[str, Any]] | None = None) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {"model": MODEL, "created_at": datetime.now(UTC).isoformat(),
                            "message": message, "done": done}
    if done:
        body.update(done_reason="stop", total_duration=1, load_duration=1,
                    prompt_eval_count=1, prompt_eval_duration=1, eval_count=1,
                    eval_duration=1)
    return json.dumps(body).encode() + b"\n"


def _answer_from_events(result: dict[str, Any]) -> str:
    """Assist's answer, from what the tool returned and nothing else."""
    if result.get("error"):
        return f"HomeSec could not tell: {result['error']}"
    events = (result.get("data") or {}).get("events") or []
    judged = [e for e in events if e.get("summary")]
    if not judged:
        return f"{len(events)} recent events, none judged yet." if events else (
            "Nothing was recorded there.")
    newest = judged[0]
    seen = ", ".join(newest.get("classes") or []) or "something"
    ago = newest.get("minutes_ago")
    when = f"{newest['time']} ({ago} min ago)" if ago is not None else newest["time"]
    return (f"{len(events)} recent events at the {newest['camera']}. The latest judged one at "
            f"{when}: {seen} seen. {newest['summary']}")


def _answer_from_images(images: list[str]) -> str:
    described = []
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as picture:
            described.append(f"a {picture.width}x{picture.height} {picture.format} picture")
    return f"I received {len(images)} attachment(s): {', '.join(described)}."


def _reply(body: dict[str, Any]) -> list[bytes]:
    messages: list[dict[str, Any]] = body["messages"]
    last = messages[-1]
    tools = {t["function"]["name"] for t in body.get("tools") or []}
    if last["role"] == "tool":
        text = _answer_from_events(json.loads(last["content"]))
    elif last.get("images"):
        text = _answer_from_images(last["images"])
    elif RECENT_EVENTS in tools:
        place = re.search(r"\bat the (\w[\w ]*?)\W*$", last["content"])
        args = {"camera": place.group(1)} if place else {}
        call = {"function": {"name": RECENT_EVENTS, "arguments": args}}
        return [_line(tool_calls=[call]), _line(done=True)]
    else:
        text = "I have no HomeSec tools to ask."
    # Streamed in pieces, as a model writes.
    words = text.split(" ")
    return [*(_line(w + (" " if i < len(words) - 1 else "")) for i, w in enumerate(words)),
            _line(done=True)]


@asynccontextmanager
async def ollama_server() -> AsyncIterator[OllamaServer]:
    server = OllamaServer(url="")

    async def tags(_request: web.Request) -> web.Response:
        return web.json_response({"models": [{
            "name": MODEL, "model": MODEL, "modified_at": "2026-09-01T00:00:00Z",
            "size": 2_500_000_000, "digest": "0" * 64,
            "details": {"format": "gguf", "family": "qwen3", "parameter_size": "4B",
                        "quantization_level": "Q4_K_M"}}]})

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        server.requests.append(body)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in _reply(body):
            await response.write(line)
        await response.write_eof()
        return response

    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.router.add_get("/api/tags", tags)
    app.router.add_post("/api/chat", chat)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
