"""The integration's generated files: fresh, and validating exactly like the engine."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from custom_components.homesec.generated import schema_data
from custom_components.homesec.generated.vol_render import error_items, model_validator
from homesec_engine.schema import MODELS, SchemaValidationError, validate
from homesec_engine.schema.generate import outputs, stale_files


def test_generated_files_are_up_to_date() -> None:
    # Given the generator's output for the current schema package
    # When compared with the files in custom_components/homesec
    stale = stale_files()
    # Then none differs (run `python -m homesec_engine.schema.generate` to fix)
    assert stale == [], f"stale generated files: {stale}"


def test_a_schema_change_makes_the_check_fail(tmp_path: Any) -> None:
    # Given freshly generated files in a scratch folder
    for path, text in outputs(tmp_path).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert stale_files(tmp_path) == []
    # When one of them is edited by hand
    target = tmp_path / "generated" / "schema_data.py"
    target.write_text(target.read_text() + "# hand edit\n")
    # Then the check names it
    assert stale_files(tmp_path) == [target]


def test_generated_declarations_equal_the_engine_declarations() -> None:
    # The integration carries the very declarations the engine validates with.
    assert schema_data.MODELS == MODELS


CASES: list[tuple[str, Any]] = [
    ("Camera", {"name": "front", "source_backend": "demo", "source_config": {}}),
    ("Camera", {"name": "Front", "source_backend": "demo", "source_config": {}}),
    ("Camera", {"name": "front", "source_backend": "rtsp", "source_config": {}}),
    ("Camera", {"name": "front", "source_backend": "rtsp",
                "source_config": {"url": "rtsp://u:p@cam/1"}}),
    ("Camera", {"name": "front", "source_backend": "rtsp",
                "source_config": {"url_env": "FRONT_URL", "sensitivity": 0.9}}),
    ("Camera", {"name": "front", "source_backend": "ftp", "source_config": {}}),
    ("Camera", {"name": "x" * 65, "source_backend": "demo", "source_config": {}}),
    ("CameraCreate", {"name": "garage", "source_backend": "local_folder",
                      "source_config": {"path": "/media/drop"}, "config_version": 3}),
    ("CameraCreate", {"name": "garage", "source_backend": "local_folder",
                      "source_config": {"path": ""}}),
    ("AlertPolicy", {"min_risk_level": "high", "activity_types": ["person"]}),
    ("AlertPolicy", {"min_risk_level": "extreme"}),
    ("AlertPolicy", {"cameras": {"front": {"min_risk_level": "critical"}}}),
    ("AlertPolicy", {"cameras": {"Front!": {}}}),
    ("AlertPolicy", {"activity_types": ["dancing"]}),
    ("ServiceAddCamera", {"name": "porch", "source_backend": "demo", "source_config": {}}),
    ("ServiceAddCamera", {"name": "porch", "source_backend": "demo"}),
    ("ServiceSetAlertPolicy", {"min_risk_level": "medium", "camera": "front"}),
    ("ServiceSetAlertPolicy", {"min_risk_level": "medium", "camera": "no such"}),
    ("ServiceDeleteClip", {"clip_id": "20260101T000000-abc"}),
    ("ServiceDeleteClip", {"clip_id": "../etc/passwd"}),
    ("ServiceGetClips", {"page_size": 100, "since": "2026-01-01T00:00:00Z"}),
    ("ServiceGetClips", {"page_size": 101}),
    ("ServiceGetClips", {"page": True}),
    ("Connection", {"host": "homesec.local", "port": 8080, "api_key": "k"}),
    ("Connection", {"host": "", "port": 8080}),
    ("Connection", {"host": "bad host", "port": 70000}),
    ("Options", {"scan_interval": 30, "motion_reset_s": 10}),
    ("Options", {"scan_interval": 1}),
    ("Config", {"server": {"api_key_env": "not a var"}}),
    ("Config", {"cameras": [{"name": "a", "source_backend": "demo", "source_config": {}},
                            {"name": "a", "source_backend": "demo", "source_config": {}}]}),
]


def _engine(name: str, data: Any) -> tuple[bool, Any]:
    try:
        return True, validate(name, data)
    except SchemaValidationError as err:
        return False, err.errors


def _integration(name: str, data: Any) -> tuple[bool, Any]:
    try:
        return True, model_validator(schema_data.MODELS, name)(data)
    except vol.Invalid as err:
        return False, error_items(err)


@pytest.mark.parametrize(("model", "data"), CASES)
def test_engine_and_integration_accept_and_reject_the_same_inputs(model: str, data: Any) -> None:
    # Given one input
    # When the engine and the integration's generated validator both check it
    engine = _engine(model, data)
    integration = _integration(model, data)
    # Then they agree on the verdict, on the cleaned value and on every error path
    assert engine == integration


def test_the_cases_cover_both_verdicts() -> None:
    # A parity suite where everything passes (or fails) would prove nothing.
    verdicts = [_engine(model, data)[0] for model, data in CASES]
    assert verdicts.count(True) >= 8 and verdicts.count(False) >= 8
