"""examples/homesec.yaml: a new user's starting point must load, validate and explain itself."""

from __future__ import annotations

import re
from pathlib import Path

from homesec_engine.config.manager import ConfigManager
from homesec_engine.config.provenance import yaml_lines
from homesec_engine.schema import MODELS
from tests.faults.engine_process import EngineProcess, http

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "homesec.yaml"


def test_the_example_loads_and_validates_as_given(tmp_path: Path) -> None:
    # Given the example, passed as the only --config file
    manager = ConfigManager([EXAMPLE], tmp_path / "overrides.yaml")
    # When the engine loads it
    config = manager.load_sync()
    # Then it is valid, and shows each kind of camera and notifier
    assert {c["source_backend"] for c in config["cameras"]} == {"demo", "rtsp", "local_folder"}
    assert {n["backend"] for n in config["notifiers"]} == {"home_assistant", "mqtt"}


def test_the_example_covers_every_section_of_the_config() -> None:
    # Given the top-level settings the schema declares (less the run-time bookkeeping ones)
    run_time = {"config_version", "config_overrides_path", "removed_cameras"}
    sections = set(MODELS["Config"]["fields"]) - run_time
    # When the example is read / Then it sets every one of them
    text = EXAMPLE.read_text(encoding="utf-8")
    top_level = {path[0] for path in yaml_lines(text) if len(path) == 1}
    assert sections <= top_level, sections - top_level


def test_every_setting_in_the_example_is_explained() -> None:
    # Given the example's lines
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    # When each setting is looked up (a key, or the first key of a list item)
    unexplained = []
    for path, number in yaml_lines(text).items():
        if isinstance(path[-1], int):
            continue  # a list item: its keys are checked themselves
        # Then a comment sits on its line or in the block of lines just above it
        # (a run of keys under one comment shares it, e.g. host and port)
        above = number - 2
        while above >= 0 and re.match(r"^\s*(- )?[a-z_]+:", lines[above]) \
                and "#" not in lines[above] and not lines[above].rstrip().endswith(":"):
            above -= 1
        explained = "#" in lines[number - 1] or (above >= 0 and lines[above].strip()
                                                 .startswith("#"))
        if not explained:
            unexplained.append(f"line {number}: {'.'.join(map(str, path))}")
    assert not unexplained, unexplained


def test_the_example_holds_no_secret() -> None:
    # Given the example / Then every credential is an env-var name, never a value
    text = EXAMPLE.read_text(encoding="utf-8")
    assert not re.search(r"://[^/\s]*:[^/\s]*@", text)  # no user:password@ in any URL
    for key in re.findall(r"^\s*(\w*(?:password|token|key|secret)\w*):", text, re.MULTILINE):
        assert key.endswith("_env"), key


def test_the_example_starts_as_its_header_says(tmp_path: Path, socket_enabled: None) -> None:
    # Given the variables the header says to set (the API key) and none of the others
    env = {name: "" for name in ("HASS_URL", "HASS_TOKEN", "SUPERVISOR_TOKEN",
                                 "DRIVEWAY_RTSP_URL", "DRIVEWAY_RTSP_SUBSTREAM_URL")}
    env["HOMESEC_API_KEY"] = "example-key-3f9a"
    (tmp_path / "data" / "incoming").mkdir(parents=True)  # as the header's mkdir does
    # When the engine starts with the example (only the port moved, 8080 may be taken here)
    with EngineProcess(tmp_path, base=[EXAMPLE], env=env) as engine:
        health = engine.wait_healthy()
        key = {"Authorization": "Bearer example-key-3f9a"}
        # Then the API answers with the key, and refuses without it
        status, body = http("GET", f"{engine.url}/status", headers=key)
        assert status == 200, body
        assert http("GET", f"{engine.url}/status")[0] == 401
        # And the cameras that can run do; the driveway, whose URL variable is unset, is
        # named in a degraded health with the variable to set
        assert {c["name"] for c in body["cameras"]} == {"demo", "driveway", "nvr_drop"}
        assert health["status"] == "degraded"
        assert set(health["cameras_down"]) == {"driveway"}
        assert "DRIVEWAY_RTSP_URL" in health["cameras_down"]["driveway"]
        # And the Home Assistant notifier is left out with a warning naming its variables
        log = engine.log.read_text(errors="replace")
        assert "notifier home_assistant is off" in log and "HASS_URL" in log
