"""A stand-in AI provider for HA's ai_task (no model runs here): an `ai_task.test_ai` entity
that reads every attachment it is handed from disk, as a cloud provider's entity does before
uploading it, records the task, and answers with the data the test scripted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.components.ai_task import AITaskEntity, AITaskEntityFeature, GenDataTask
from homeassistant.components.ai_task import GenDataTaskResult
from homeassistant.components.conversation import ChatLog
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

DOMAIN = "test_ai"
ENTITY_ID = "ai_task.test_ai"


@dataclass
class SeenTask:
    """What the provider was asked: the instructions and each attachment's bytes."""

    name: str
    instructions: str
    structure: Any
    attachments: list[tuple[str, str, Path, bytes]] = field(default_factory=list)


@dataclass
class Provider:
    """The scripted answers (data, or an exception to raise) and the tasks seen."""

    answers: list[Any] = field(default_factory=list)
    seen: list[SeenTask] = field(default_factory=list)


class _Flow(ConfigFlow):
    """The provider's entries are made by the test, never by this flow."""

    VERSION = 1


class _Entity(AITaskEntity):
    _attr_name = "Test AI"
    _attr_unique_id = "test_ai"
    _attr_supported_features = AITaskEntityFeature.GENERATE_DATA | getattr(
        AITaskEntityFeature, "SUPPORT_ATTACHMENTS", 0)

    def __init__(self, provider: Provider) -> None:
        self._provider = provider

    async def _async_generate_data(
        self, task: GenDataTask, chat_log: ChatLog
    ) -> GenDataTaskResult:
        seen = SeenTask(task.name, task.instructions, task.structure)
        for item in task.attachments or []:
            data = await self.hass.async_add_executor_job(item.path.read_bytes)
            seen.attachments.append((item.media_content_id, item.mime_type, item.path, data))
        self._provider.seen.append(seen)
        answer = self._provider.answers.pop(0) if self._provider.answers else {}
        if isinstance(answer, Exception):
            raise answer
        return GenDataTaskResult(conversation_id=chat_log.conversation_id, data=answer)


async def async_setup_provider(hass: HomeAssistant) -> Provider:
    """Load ai_task with the stand-in provider's entity; returns the provider."""
    provider = Provider()

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, ["ai_task"])
        return True

    async def setup_platform(
        hass: HomeAssistant, entry: ConfigEntry, add: AddConfigEntryEntitiesCallback
    ) -> None:
        add([_Entity(provider)])

    mock_integration(hass, MockModule(DOMAIN, async_setup_entry=setup_entry))
    mock_platform(hass, f"{DOMAIN}.ai_task", MockPlatform(async_setup_entry=setup_platform))
    mock_platform(hass, f"{DOMAIN}.config_flow")  # entries are made here, not by a flow
    # conversation (which ai_task needs) reads the exposed entities of the core component
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "ai_task", {})
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    with mock_config_flow(DOMAIN, _Flow):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID) is not None
    return provider
