"""The AI provider set up in Home Assistant, asked through its ai_task: one
`ai_task.generate_data` call per clip, over HA's REST API, with the clip's stored snapshot
attached (as `media-source://homesec/snapshot/<clip id>`, which the HomeSec integration
resolves to a local file) and a structure of activity_type, risk_level and summary.

Home Assistant is reached as hass_target.py says (the add-on's Supervisor token, or url_env and
token_env). Timeouts, connection errors, 429/5xx answers and answers not in the asked shape are
retried `max_retries` times; other 4xx answers are not (a refused token or an unknown ai_task
entity does not fix itself). A failure never costs the alert: the pipeline then judges the
clip on its detections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from ..filters.base import FilterOutput
from ..hass_target import HassTargetError, resolve_target
from ..records import RISK_LEVELS, Analysis
from ..schema.config import ACTIVITY_TYPES
from .base import INSTRUCTIONS, AnalyzerError, HttpAnalyzer, Retryable, analysis_from

SERVICE_PATH = "/api/services/ai_task/generate_data?return_response"
SNAPSHOT_MEDIA_ID = "media-source://homesec/snapshot/{clip_id}"
STRUCTURE: dict[str, Any] = {
    "activity_type": {"description": "What happened", "required": True,
                      "selector": {"select": {"options": list(ACTIVITY_TYPES)}}},
    "risk_level": {"description": "How worrying it is for the home owner", "required": True,
                   "selector": {"select": {"options": list(RISK_LEVELS)}}},
    "summary": {"description": "One or two plain sentences", "required": True,
                "selector": {"text": {"multiline": True}}},
}


class HomeAssistantAnalyzer(HttpAnalyzer):
    name = "home_assistant"
    needs_stored_snapshot = True

    def __init__(self, config: dict[str, Any], *, backoff_s: float = 1.0) -> None:
        super().__init__(config, backoff_s=backoff_s)
        self.entity_id: str | None = config.get("ai_task_entity")

    def status(self) -> dict[str, Any]:
        error = self.last_error
        try:
            mode = resolve_target(self.config, "home_assistant analyzer")[0]
        except HassTargetError as err:
            mode, error = None, str(err)
        return {"status": "error" if error else "ok", "error": error,
                "latency_ms": self.last_latency_ms, "mode": mode,
                "ai_task_entity": self.entity_id}

    async def analyze(self, path: Path, filtered: FilterOutput,
                      clip_id: str | None = None) -> Analysis:
        if clip_id is None:
            raise AnalyzerError("the home_assistant analyzer needs the stored clip's id")
        try:
            _mode, base, token = resolve_target(self.config, "home_assistant analyzer")
        except HassTargetError as err:
            self.last_error = str(err)
            raise AnalyzerError(str(err)) from err
        body = self._body(clip_id, filtered.classes)
        return await self._retrying(lambda: self._request(base, token, body))

    def _body(self, clip_id: str, classes: list[str]) -> dict[str, Any]:
        seen = ", ".join(classes) if classes else "nothing specific"
        body: dict[str, Any] = {
            "task_name": f"HomeSec clip {clip_id}",
            "instructions": f"{INSTRUCTIONS} The object detector saw: {seen}. The attached "
                            "picture is the clip's best detection frame, detections boxed.",
            "structure": STRUCTURE,
            "attachments": [{"media_content_id": SNAPSHOT_MEDIA_ID.format(clip_id=clip_id),
                             "media_content_type": "image/jpeg"}],
        }
        if self.entity_id:
            body["entity_id"] = self.entity_id
        return body

    async def _request(self, base: str, token: str, body: dict[str, Any]) -> Analysis:
        session = await self.session()
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with session.post(f"{base}{SERVICE_PATH}", json=body, headers=headers,
                                          timeout=timeout) as resp:
                if resp.status == 429 or resp.status >= 500:
                    raise Retryable(f"Home Assistant answered HTTP {resp.status}")
                if resp.status >= 400:
                    detail = (await resp.text())[:200]
                    raise AnalyzerError(f"Home Assistant refused the ai_task request: HTTP "
                                        f"{resp.status} {detail}".strip())
                try:
                    data = await resp.json(content_type=None)
                except ValueError as err:
                    raise Retryable("Home Assistant answered with something not JSON") from err
        except TimeoutError as err:
            raise Retryable(f"Home Assistant's ai_task did not answer within "
                            f"{self.timeout_s:g} s") from err
        except aiohttp.ClientError as err:
            raise Retryable(f"cannot reach Home Assistant: {type(err).__name__}") from err
        try:
            answer = data["service_response"]["data"]
        except (KeyError, TypeError) as err:
            raise Retryable("Home Assistant's answer has no ai_task data") from err
        return analysis_from(answer)
