"""hassfest and HACS rules for what helper A ships (the validators do not run here)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from PIL import Image

from custom_components.homesec.generated import entity_descriptions as ed
from custom_components.homesec.generated.schema_data import MODELS

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "homesec"
MANIFEST_KEYS = {
    "domain", "name", "documentation", "codeowners", "version", "integration_type",
    "config_flow", "requirements", "dependencies", "after_dependencies", "loggers",
    "iot_class", "single_config_entry", "issue_tracker", "import_executor", "quality_scale",
    "disabled", "preview_features", "zeroconf", "ssdp", "bluetooth", "dhcp", "usb",
    "homekit", "mqtt",
}
HACS_KEYS = {"name", "content_in_root", "country", "filename", "hacs", "hide_default_branch",
             "homeassistant", "persistent_directory", "render_readme", "zip_release"}


def _strings() -> dict:
    return json.loads((INTEGRATION / "strings.json").read_text())


def test_manifest_follows_hassfest_and_hacs() -> None:
    # Given the manifest Then hassfest's and HACS's rules hold
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"] and keys[2:] == sorted(keys[2:])
    assert set(keys) <= MANIFEST_KEYS
    assert manifest["domain"] == "homesec"
    assert manifest["documentation"].startswith("https://")
    assert not manifest["documentation"].startswith("https://www.home-assistant.io/integrations")
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["codeowners"] and all(o.startswith("@") for o in manifest["codeowners"])
    assert manifest["config_flow"] is True and manifest["integration_type"] == "hub"
    assert manifest["iot_class"] == "local_push" and manifest["single_config_entry"] is True
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])


def test_component_imports_are_declared() -> None:
    # Every homeassistant.components.X import is a base platform, allow-listed or declared
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    declared = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    allowed = {"sensor", "binary_sensor", "switch", "event", "image", "diagnostics",
               "repairs", "media_source", "media_player", "device_automation",
               "homeassistant", "system_health", "websocket_api", "camera"}
    used: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "homeassistant.components."
            ):
                used.add(node.module.split(".")[2])
    assert used - allowed <= declared


def test_hacs_json_and_brand_images() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS and hacs["name"] and hacs["homeassistant"] == "2026.3.0"
    with Image.open(INTEGRATION / "brand" / "icon.png") as icon:
        assert icon.size == (256, 256)
    with Image.open(INTEGRATION / "brand" / "logo.png") as logo:
        assert logo.size[1] == 256
        # The wordmark right of the shield is letters, not a solid bar: some row through
        # it crosses from background into ink once per letter stroke at least
        rgba = logo.convert("RGBA")
        width = rgba.size[0]

        def strokes(y: int) -> int:
            ink = [rgba.getpixel((x, y))[3] > 0 for x in range(260, width)]
            return sum(1 for before, now in zip(ink, ink[1:]) if now and not before)
        assert max(strokes(y) for y in range(60, 200)) >= 7


def test_translations_are_complete_and_clean() -> None:
    strings = _strings()
    # en.json equals strings.json
    assert json.loads((INTEGRATION / "translations" / "en.json").read_text()) == strings

    def walk(node: object) -> list[str]:
        if isinstance(node, dict):
            return [s for v in node.values() for s in walk(v)]
        return [node] if isinstance(node, str) else []

    for text in walk(strings):
        assert text == text.strip(), text
        assert not re.search(r"<[a-z/][^>]*>", text), text
        assert not re.search(r"https?://", text), text
        assert "'{" not in text, text
    # every data field has a data_description
    for section in ("config", "options"):
        for step in strings[section]["step"].values():
            assert set(step.get("data", {})) == set(step.get("data_description", {}))
    # every field error the forms can raise exists
    for field in MODELS["Connection"]["fields"]:
        assert f"invalid_{field}" in strings["config"]["error"]
    for field in MODELS["Options"]["fields"]:
        assert f"invalid_{field}" in strings["options"]["error"]


def test_every_entity_has_its_translations() -> None:
    entity = _strings()["entity"]
    platforms = {
        "sensor": ed.SENSOR_DESCRIPTIONS, "binary_sensor": ed.BINARY_SENSOR_DESCRIPTIONS,
        "switch": ed.SWITCH_DESCRIPTIONS, "event": ed.EVENT_DESCRIPTIONS,
        "image": ed.IMAGE_DESCRIPTIONS,
    }
    for platform, descriptions in platforms.items():
        for description in descriptions:
            item = entity[platform][description.translation_key]
            assert item["name"]
            for option in getattr(description, "options", None) or []:
                assert item["state"][option]
            for event_type in getattr(description, "event_types", None) or []:
                assert item["state_attributes"]["event_type"]["state"][event_type]


def test_exception_keys_used_by_the_code_exist() -> None:
    exceptions = _strings()["exceptions"]
    for path in INTEGRATION.glob("*.py"):
        for key in re.findall(r'translation_key="([a-z_]+)"', path.read_text()):
            if 'translation_domain' in path.read_text():
                assert key in exceptions or key in _strings().get("issues", {}), (path.name, key)
