"""examples/homesec.yaml: a new user's starting point must load, validate and explain itself."""

from __future__ import annotations

import re
from pathlib import Path

from homesec_engine.config.manager import ConfigManager
from homesec_engine.config.provenance import yaml_lines
from homesec_engine.schema import MODELS

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
