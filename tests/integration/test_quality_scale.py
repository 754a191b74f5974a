"""quality_scale.yaml claims Platinum: every rule is listed, and the checkable claims hold."""

from __future__ import annotations

import ast
import configparser
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "homesec"
DOCS = ROOT / "docs" / "integration"

# hassfest's ALL_RULES (script/hassfest/quality_scale.py), tier by tier.
BRONZE = [
    "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
    "config-flow-test-coverage", "dependency-transparency", "docs-actions", "docs-conditions",
    "docs-high-level-description", "docs-installation-instructions",
    "docs-removal-instructions", "docs-triggers", "entity-event-setup", "entity-unique-id",
    "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
    "unique-config-entry",
]
SILVER = [
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
    "docs-installation-parameters", "entity-unavailable", "integration-owner",
    "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
]
GOLD = [
    "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
    "docs-examples", "docs-known-limitations", "docs-supported-devices",
    "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
    "entity-category", "entity-device-class", "entity-disabled-by-default",
    "entity-translations", "exception-translations", "icon-translations",
    "reconfiguration-flow", "repair-issues", "stale-devices",
]
PLATINUM = ["async-dependency", "inject-websession", "strict-typing"]
ALL_RULES = BRONZE + SILVER + GOLD + PLATINUM
ENTITY_PLATFORMS = ["binary_sensor", "event", "image", "sensor", "switch"]


def _rules() -> dict[str, dict[str, str]]:
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())
    return {name: (v if isinstance(v, dict) else {"status": v}) for name, v in data["rules"].items()}


def _source(name: str) -> str:
    return (INTEGRATION / name).read_text()


def _all_code() -> str:
    return "\n".join(p.read_text() for p in INTEGRATION.glob("*.py"))


def test_every_rule_is_listed_with_a_valid_status() -> None:
    # Given the quality scale file
    rules = _rules()
    # Then it lists exactly hassfest's rules, each done or exempt-with-a-reason (Platinum)
    assert sorted(rules) == sorted(ALL_RULES)
    for name, rule in rules.items():
        assert rule["status"] in ("done", "exempt"), name
        if rule["status"] == "exempt":
            assert rule.get("comment"), f"{name}: an exemption needs a reason"


def test_manifest_claims_what_the_file_supports() -> None:
    # Given the manifest
    manifest = json.loads(_source("manifest.json"))
    # Then the integration owner and the single entry behind integration-owner and
    # unique-config-entry are declared (hassio discovery needs no manifest key: the add-on's
    # `discovery: [homesec]` plus async_step_hassio, checked below)
    assert manifest["codeowners"] and all(o.startswith("@") for o in manifest["codeowners"])
    assert manifest["single_config_entry"] is True
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest.get("requirements", []) == []  # dependency-transparency: nothing hidden


def test_runtime_data_and_unloading() -> None:
    init = _source("__init__.py")
    # runtime-data: the entry carries its client and coordinator in runtime_data
    assert "entry.runtime_data = " in init
    assert "hass.data[DOMAIN]" not in _all_code()
    # config-entry-unloading
    assert "async def async_unload_entry" in init
    assert "async_unload_platforms" in init
    # action-setup: services registered from async_setup
    setup = init[init.index("async def async_setup(") :]
    assert "async_setup_services(hass)" in setup.split("async def async_setup_entry")[0]


def test_every_platform_sets_parallel_updates_and_entity_names() -> None:
    for platform in ENTITY_PLATFORMS:
        code = _source(f"{platform}.py")
        # parallel-updates
        assert re.search(r"^PARALLEL_UPDATES\s*=\s*\d+", code, re.M), platform
    # has-entity-name and entity-unique-id, on the base entity every platform derives from
    entity = _source("entity.py")
    assert "_attr_has_entity_name = True" in entity
    assert "_attr_unique_id" in entity


def test_config_flow_has_reauth_reconfigure_and_discovery() -> None:
    flow = _source("config_flow.py")
    for step in ("async_step_user", "async_step_reauth", "async_step_reconfigure",
                 "async_step_hassio"):
        assert f"def {step}" in flow, step
    assert "async_set_unique_id" in flow  # unique-config-entry / discovery-update-info
    assert "_abort_if_unique_id_configured(" in flow


def test_translations_cover_entities_exceptions_issues_and_triggers() -> None:
    strings = json.loads(_source("strings.json"))
    # en.json is strings.json (the shipped English)
    assert json.loads((INTEGRATION / "translations" / "en.json").read_text()) == strings
    # exception-translations: every translation_key raised in code exists
    code = _all_code()
    for key in set(re.findall(r'translation_key="([a-z_]+)"', code)):
        in_some_section = (
            key in strings.get("exceptions", {})
            or key in strings.get("issues", {})
        )
        if in_some_section:
            continue
        # entity translation keys come from the generated descriptions
        assert any(key in s for s in strings.get("entity", {}).values()), key
    # repair-issues: the fix flow is translated
    assert strings["issues"]["restart_required"]["fix_flow"]["step"]["confirm"]["description"]
    # docs-triggers side: the device trigger type has a name
    assert "alert" in strings["device_automation"]["trigger_type"]
    # icon-translations
    icons = json.loads(_source("icons.json"))
    assert icons["entity"] and icons["services"]


def test_inject_websession_and_async_dependency() -> None:
    init = _source("__init__.py")
    # inject-websession: the client gets HA's shared session
    assert "async_get_clientsession" in init
    # async-dependency: no blocking HTTP library anywhere in the integration
    tree_imports = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tree_imports |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tree_imports.add(node.module.split(".")[0])
    assert not tree_imports & {"requests", "urllib3", "httpx", "homesec_engine"}


def test_strict_typing_is_configured() -> None:
    # strict-typing: mypy runs strict over the integration, which ships no untyped escape
    config = configparser.ConfigParser()
    config.read(ROOT / "mypy.ini")
    assert config.getboolean("mypy", "strict")
    assert "custom_components/homesec" in config.get("mypy", "files")


def test_gold_features_exist_in_code() -> None:
    code = _all_code()
    assert (INTEGRATION / "diagnostics.py").exists()  # diagnostics
    assert "async_redact_data" in _source("diagnostics.py")
    assert "ir.async_create_issue" in _source("repairs.py")  # repair-issues
    assert "is_fixable=True" in _source("repairs.py")
    assert "child_device_info" in _source("entity.py")  # devices, linked to the hub
    assert "async_remove_device" in code  # stale-devices
    assert (INTEGRATION / "brand" / "icon.png").exists()  # brands
    descriptions = _source("generated/entity_descriptions.py")
    assert "entity_category=EntityCategory." in descriptions  # entity-category
    assert "device_class=" in descriptions  # entity-device-class
    assert "entity_registry_enabled_default=False" in descriptions  # disabled-by-default
    assert "translation_key=" in descriptions  # entity-translations


def test_user_documentation_exists_for_every_docs_rule() -> None:
    # Given every docs-* rule marked done
    rules = _rules()
    text = {p.name: p.read_text() for p in DOCS.glob("*.md")}
    everything = "\n".join(text.values())
    # Then the pages they point at exist and contain the promised sections
    for name, rule in rules.items():
        if not name.startswith("docs-") or rule["status"] != "done":
            continue
        for ref in re.findall(r"docs/integration/([a-z_]+\.md)", rule.get("comment", "")):
            assert ref in text, f"{name}: {ref} missing"
    for heading in ("## Install through HACS", "## Removal", "## Options",
                    "## How data is updated", "## Known limitations", "## Supported devices",
                    "## Use cases", "## Device triggers"):
        assert heading in everything, heading
    # docs-actions: every service is documented
    services = yaml.safe_load(_source("services.yaml"))
    for service in services:
        assert f"homesec.{service}" in text["actions.md"], service
    # test-coverage: the measured figure is documented
    assert re.search(r"coverage[^\n]*\d+\s*%", everything, re.I)
