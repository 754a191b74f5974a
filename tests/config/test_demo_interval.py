"""The demo camera's interval is stated once (the schema) and everything else follows it."""

from __future__ import annotations

import re
from pathlib import Path

from homesec_engine.config.defaults import embedded_default
from homesec_engine.config.loader import validate_config
from homesec_engine.sources.demo import DemoSource

ROOT = Path(__file__).resolve().parents[2]


def _documented_interval() -> float:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = docs[docs.index("## DemoSourceConfig"):]
    match = re.search(r"^\| `interval_s` \| [^|]+\| `([0-9.]+)` \|", section, re.MULTILINE)
    assert match, "docs/configuration.md lists no default for the demo interval"
    return float(match.group(1))


def test_the_demo_camera_runs_at_the_interval_the_docs_give(tmp_path: Path) -> None:
    # Given the embedded default a new user starts with
    raw = embedded_default(tmp_path)
    # When the config is validated and the demo source built, as `./scripts/run` does
    (camera,) = validate_config(raw)["cameras"]
    source = DemoSource(camera["name"], camera["source_config"], tmp_path)
    # Then its clips come at the interval docs/configuration.md documents
    documented = _documented_interval()
    assert camera["source_config"]["interval_s"] == documented
    assert source.interval_s == documented
    # And a demo source given no settings at all (not validated) uses the same default
    assert DemoSource("bare", {}, tmp_path).interval_s == documented


def test_no_other_place_restates_the_interval() -> None:
    # Given the README and the embedded default
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # Then neither gives its own number for the demo camera's interval
    assert not re.search(r"demo[^.]*every \d+ ?s\b", readme, re.IGNORECASE | re.DOTALL)
    assert "interval_s" not in embedded_default(Path("data"))["cameras"][0]["source_config"]
