"""The add-on's files against the Supervisor's rules, so the store accepts what we ship."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
import yaml

from homesec_engine.addon.bootstrap import ENV_DATABASE_URL
from homesec_engine.addon.options import DEFAULT_OPTIONS, parse_options

from .conftest import ADDON_DIR, REPO, addon_manifest
from .supervisor_rules import (
    LEGACY_MAP_TYPES,
    NEW_MAP_TYPES,
    addon_config_files,
    check_addon_config,
    check_build,
    check_options,
    check_schema_element,
    check_translations,
    map_types,
)


def _yaml(name: str) -> Any:
    return yaml.safe_load((ADDON_DIR / name).read_text(encoding="utf-8"))


# --- the checker itself must reject what the Supervisor rejects ---------------------------

@pytest.mark.parametrize("typ", ["str", "str?", "password?", "password(8,)", "int(1,10)",
                                 "float(0.5,2.5)?", "bool", "email", "url?", "port",
                                 "match(^[a-z]+$)", "list(debug|info)", "device",
                                 "device(subsystem=tty)", ["str"], {"a": "int"},
                                 [{"name": "str", "port": "port?"}]])
def test_schema_checker_accepts_the_type_language(typ: Any) -> None:
    # Given a type from the Supervisor's options language / When checked / Then accepted
    assert check_schema_element(typ, "opt") == []


@pytest.mark.parametrize("typ", ["string", "integer", "list()", "str(a,b)", "bool!",
                                 [["str"]], ["str", "int"], 5])
def test_schema_checker_rejects_what_the_supervisor_rejects(typ: Any) -> None:
    # Given a type the Supervisor refuses / When checked / Then a problem is reported
    assert check_schema_element(typ, "opt") != []


def test_option_checker_reports_missing_and_unknown_options() -> None:
    # Given a required schema key without a default, and an option not in the schema
    schema = {"needed": "str", "optional": "str?", "level": "list(a|b)"}
    options = {"stray": 1, "level": "c"}
    # When checked
    problems = check_options(options, schema)
    # Then each is reported the way the Supervisor words it
    assert "Missing option 'needed' in root" in problems
    assert "Option 'stray' does not exist in the schema" in problems
    assert any("'level'" in p for p in problems)
    assert not any("'optional'" in p for p in problems)


def test_build_checker_requires_string_args() -> None:
    # Given build args with a number (YAML 1.2 is a float) / When checked / Then refused
    assert check_build({"args": {"V": 1.2}}) != []
    assert check_build({"args": {"V": "1.2"}}) == []


# --- our add-on -----------------------------------------------------------------------

def test_config_yaml_passes_the_supervisor_rules() -> None:
    # Given the add-on's config.yaml / When checked like the Supervisor does / Then no problem
    assert check_addon_config(addon_manifest()) == []


def test_config_yaml_declares_what_the_addon_needs_and_nothing_more() -> None:
    cfg = addon_manifest()
    # Then the add-on is the homesec slug for the two supported arches, started by s6
    assert cfg["slug"] == "homesec"
    assert sorted(cfg["arch"]) == ["aarch64", "amd64"]
    assert cfg["init"] is False and cfg["startup"] == "services"
    # And it talks to Core (events) and announces itself, with no other privilege
    assert cfg["homeassistant_api"] is True
    assert cfg["discovery"] == ["homesec"]
    for privilege in ("hassio_api", "host_network", "privileged", "full_access", "docker_api",
                      "host_pid", "host_dbus", "devices", "auth_api", "uart", "usb", "gpio"):
        assert privilege not in cfg, privilege
    # And ingress serves the panel on the port the watchdog checks
    assert cfg["ingress"] is True and cfg["ingress_port"] == 8080
    assert cfg["watchdog"] == "http://[HOST]:[PORT:8080]/api/v1/health"
    assert cfg["panel_icon"].startswith("mdi:") and cfg["panel_title"]
    # And the maps give read-write media, share and the add-on's own config folder
    maps = map_types(cfg)
    assert maps == {"addon_config": True, "media": True, "share": True}
    # ... with a type every Supervisor mounts (app_config is dropped by those before 2026.07.1)
    assert not set(maps) & NEW_MAP_TYPES
    assert set(maps) & LEGACY_MAP_TYPES == {"addon_config"}


def test_options_schema_offers_the_documented_settings() -> None:
    cfg = addon_manifest()
    schema = cfg["schema"]
    # Then the log level is a select box, secrets are password fields, and the database
    # URL is optional (empty = bundled database)
    assert schema["log_level"] == "list(debug|info|warning|error)"
    assert schema["database_url"] == "str?"
    assert schema["storage_path"] == "str"
    assert schema["vlm_enabled"] == "bool" and schema["vlm_model"] == "str"
    for secret in ("vlm_api_key", "database_password", "mqtt_password"):
        assert schema[secret] == "password?", secret
    # And the entry point's defaults are the options the Supervisor writes
    assert cfg["options"] == DEFAULT_OPTIONS
    # And the entry point accepts every option the Supervisor may write
    parse_options({**cfg["options"], "database_url": "postgresql://u@db:5432/homesec",
                   "database_password": "x", "vlm_api_key": "k", "mqtt_username": "m",
                   "mqtt_password": "p"})


def test_every_option_is_translated() -> None:
    # Given the options schema and translations/en.yaml / Then each option has a name and a
    # description, and no translation names an option that does not exist
    assert check_translations(_yaml("translations/en.yaml"), addon_manifest()["schema"]) == []


def test_build_yaml_uses_ha_base_images_with_string_args() -> None:
    build = _yaml("build.yaml")
    # Then the build file passes the Supervisor's schema
    assert check_build(build) == []
    # And each supported arch builds from the HA Debian base image of that arch, all on the
    # same Debian release (the one tests/addon/test_image_replay.py debootstraps): glibc, so
    # onnxruntime's wheels install
    arches = addon_manifest()["arch"]
    assert set(build["build_from"]) == set(arches)
    for arch, image in build["build_from"].items():
        assert re.match(rf"^ghcr\.io/home-assistant/{arch}-base-debian:(bookworm|trixie)$",
                        image), image
    assert len({image.rsplit(":", 1)[1] for image in build["build_from"].values()}) == 1


def test_engine_source_is_pinned_to_this_repository_and_release() -> None:
    # Given the store builds with only addon/homesec as context, the engine comes from the
    # repository's archive at a tag
    args = _yaml("build.yaml")["args"]
    repository = json.loads((REPO / "repository.json").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    version = addon_manifest()["version"]
    # Then that archive is this repository's, at the tag of this add-on version, which is
    # also the engine package's version
    assert args["HOMESEC_REPO"] == repository["url"]
    assert args["HOMESEC_REF"] == f"v{version}"
    assert pyproject["project"]["version"] == version
    assert addon_manifest()["url"].startswith(repository["url"])


def test_dockerfile_builds_on_build_from_with_apt() -> None:
    text = (ADDON_DIR / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    # Then the base image comes from BUILD_FROM (set per arch by build.yaml)
    assert lines[0] == "ARG BUILD_FROM" and lines[1] == "FROM $BUILD_FROM"
    # And packages come from Debian's apt (the base images are Debian), the engine with its
    # detector runtime
    assert "apk " not in text and "apt-get install -y --no-install-recommends" in text
    for package in ("ffmpeg", '"postgresql-${POSTGRES_MAJOR}"', "python3-venv",
                    "homesec-engine[detector,webrtc] @"):
        assert package in text, package
    # And every build argument the Dockerfile declares is given by build.yaml
    declared = {m.group(1) for m in re.finditer(r"^ARG (\w+)", text, re.M)} - {"BUILD_FROM"}
    assert declared <= set(_yaml("build.yaml")["args"])
    # And the s6 services are copied into the image
    assert "COPY rootfs /" in text
    assert (ADDON_DIR / "rootfs").is_dir()


def test_repository_json_points_at_the_addon() -> None:
    repository = json.loads((REPO / "repository.json").read_text(encoding="utf-8"))
    # Then the store manifest names the repository, its URL and a maintainer
    assert set(repository) == {"name", "url", "maintainer"}
    assert repository["url"].startswith("https://")
    # And the only add-on the store finds is addon/homesec (no stray config.yaml elsewhere)
    assert addon_config_files(REPO) == [ADDON_DIR / "config.yaml"]


def test_addon_docs_and_images_are_present() -> None:
    # Then the store page has its documentation, change log and pictures
    docs = (ADDON_DIR / "DOCS.md").read_text(encoding="utf-8")
    for heading in ("Installation", "First start", "Options", "standalone", "Backups"):
        assert heading in docs, heading
    for option in addon_manifest()["schema"]:
        assert f"`{option}`" in docs, option
    assert ENV_DATABASE_URL in docs
    changelog = (ADDON_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {addon_manifest()['version']}" in changelog


def test_backups_leave_out_clips_and_recordings_in_progress() -> None:
    # Given the manifest and the default options
    manifest = addon_manifest()
    # When a backup is made / Then the clips' default folder is outside /data (never in the
    # add-on's backup) and the work folders under /data are excluded
    assert not DEFAULT_OPTIONS["storage_path"].startswith("/data")
    excluded = manifest.get("backup_exclude", [])
    assert isinstance(excluded, list) and all(isinstance(p, str) for p in excluded)
    assert "work/**" in excluded
