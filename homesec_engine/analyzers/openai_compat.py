"""A vision-language model behind an OpenAI-compatible chat-completions API.

Works with OpenAI and with local servers that speak the same protocol (Ollama, vLLM,
LM Studio, llama.cpp's server). One request per clip: a short instruction, the classes the
filter found and a few frames as base64 JPEG `image_url` parts, with `response_format`
asking for a JSON object of activity_type, risk_level and summary (json_schema, strict).

Timeouts, connection errors, 429/5xx answers and answers that are not the asked-for JSON are
retried `max_retries` times with exponential backoff; other 4xx answers are not (a wrong key
or model name does not fix itself). The API key is read from the env var named by
`api_key_env` at every request and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

import aiohttp

from ..filters.base import FilterOutput
from ..filters.frames import pick_frames
from ..records import RISK_LEVELS, Analysis
from ..schema.config import ACTIVITY_TYPES
from ..snapshots import encode_jpeg
from .base import INSTRUCTIONS, AnalyzerError, HttpAnalyzer, Retryable, analysis_from

SYSTEM_PROMPT = f"{INSTRUCTIONS} You get frames of one short clip. Answer with JSON only."
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "activity_type": {"type": "string", "enum": list(ACTIVITY_TYPES)},
        "risk_level": {"type": "string", "enum": list(RISK_LEVELS)},
        "summary": {"type": "string"},
    },
    "required": ["activity_type", "risk_level", "summary"],
    "additionalProperties": False,
}


class OpenAICompatibleAnalyzer(HttpAnalyzer):
    name = "openai"

    def __init__(self, config: dict[str, Any], *, backoff_s: float = 1.0) -> None:
        super().__init__(config, backoff_s=backoff_s)
        self.base_url = str(config.get("base_url") or "https://api.openai.com/v1").rstrip("/")
        self.model = str(config.get("model") or "gpt-4o-mini")
        self.api_key_env: str | None = config.get("api_key_env")
        self.frames = int(config.get("frames", 3))

    def status(self) -> dict[str, Any]:
        error = self.last_error
        if self.api_key_env and not os.environ.get(self.api_key_env):
            error = f"environment variable {self.api_key_env} is not set"
        return {"status": "error" if error else "ok", "error": error,
                "latency_ms": self.last_latency_ms, "model": self.model}

    # -- the request ------------------------------------------------------------------------

    async def analyze(self, path: Path, filtered: FilterOutput,
                      clip_id: str | None = None) -> Analysis:
        images = await asyncio.to_thread(self._images, path, filtered)
        body = self._body(images, filtered.classes)
        return await self._retrying(lambda: self._request(body))

    def _images(self, path: Path, filtered: FilterOutput) -> list[str]:
        frames = []
        if filtered.best_frame is not None:
            frames.append(filtered.best_frame)
        if len(frames) < self.frames:
            frames.extend(pick_frames(path, self.frames - len(frames)))
        return [base64.b64encode(encode_jpeg(f)).decode("ascii") for f in frames[: self.frames]]

    def _body(self, images: list[str], classes: list[str]) -> dict[str, Any]:
        seen = ", ".join(classes) if classes else "nothing specific"
        content: list[dict[str, Any]] = [{
            "type": "text",
            "text": f"The object detector saw: {seen}. Frames of the clip follow.",
        }]
        content += [{"type": "image_url",
                     "image_url": {"url": f"data:image/jpeg;base64,{img}", "detail": "low"}}
                    for img in images]
        return {
            "model": self.model,
            "messages": [
                {"role": "system",
                 "content": SYSTEM_PROMPT},
                {"role": "user", "content": content},
            ],
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "homesec_analysis", "strict": True,
                                "schema": RESPONSE_SCHEMA},
            },
        }

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise AnalyzerError(f"environment variable {self.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def _request(self, body: dict[str, Any]) -> Analysis:
        session = await self.session()
        url = f"{self.base_url}/chat/completions"
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with session.post(url, json=body, headers=self._headers(),
                                          timeout=timeout) as resp:
                if resp.status == 429 or resp.status >= 500:
                    raise Retryable(f"the analyzer API answered HTTP {resp.status}")
                if resp.status >= 400:
                    raise AnalyzerError(f"the analyzer API refused the request: HTTP "
                                        f"{resp.status} {resp.reason or ''}".strip())
                try:
                    data = await resp.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError, ValueError) as err:
                    raise Retryable("the analyzer API answered with something not JSON"
                                     ) from err
        except TimeoutError as err:
            raise Retryable(f"the analyzer API did not answer within {self.timeout_s:g} s"
                             ) from err
        except aiohttp.ClientError as err:
            raise Retryable(f"cannot reach the analyzer API: {type(err).__name__}") from err
        return parse_answer(data)


def parse_answer(data: Any) -> Analysis:
    """The Analysis in a chat-completions answer; Retryable when it is not what was asked."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as err:
        raise Retryable("the analyzer answer has no message content") from err
    if isinstance(content, list):  # some servers answer with content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise Retryable("the analyzer answer has no message content")
    text = content.strip()
    if text.startswith("```"):  # tolerate a fenced code block around the JSON
        text = text.strip("`").removeprefix("json").strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise Retryable("the analyzer answer is not the asked-for JSON") from err
    return analysis_from(obj)
