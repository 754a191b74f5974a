"""Declarations are consistent: entity specs point into /status, errors name fields."""

from __future__ import annotations

import pytest

from homesec_engine.schema import ENTITY_SPECS, MODELS, SchemaValidationError, validate


def _resolve(model: str, path: list[str]) -> bool:
    fields = MODELS[model]["fields"]
    head, *rest = path
    if head not in fields:
        return False
    decl = fields[head]
    if not rest:
        return True
    return decl["type"] == "model" and _resolve(decl["model"], rest)


@pytest.mark.parametrize("spec", ENTITY_SPECS, ids=lambda s: s["key"])
def test_every_entity_value_path_exists_in_the_status_model(spec: dict) -> None:
    # Given an entity spec, when its value path is followed through the Status model
    root = {"hub": "Status", "camera": "CameraStatus",
            "engine": "ClusterEngine"}[spec["scope"]]  # engine: health.cluster.engines[i]
    # Then every step exists, so the integration never reads a missing key; a spec without a
    # path computes its value with a named function instead
    if not spec["value_path"]:
        assert spec.get("value_fn"), spec
        return
    assert _resolve(root, spec["value_path"]), spec


@pytest.mark.parametrize("spec", ENTITY_SPECS, ids=lambda s: s["key"])
def test_every_named_entity_function_is_written_in_the_integration(spec: dict) -> None:
    # Given the integration's value functions (what a spec names when a path is not enough)
    from custom_components.homesec.value_functions import AVAILABLE_FUNCTIONS, VALUE_FUNCTIONS
    from homesec_engine.schema.config import DETECTION_CLASSES

    # Then every name a spec uses is there, and an alert class is one the detector reports
    if spec.get("value_fn"):
        assert spec["value_fn"] in VALUE_FUNCTIONS, spec
    if spec.get("available_fn"):
        assert spec["available_fn"] in AVAILABLE_FUNCTIONS, spec
    if spec.get("alert_class"):
        # (a push entity turns on for it; a count sensor counts it)
        assert spec.get("push") or spec.get("value_fn") == "alert_object_count", spec
        assert spec["alert_class"] in DETECTION_CLASSES, spec


def test_entity_keys_are_unique_per_scope() -> None:
    keys = [(s["scope"], s["key"]) for s in ENTITY_SPECS]
    assert len(keys) == len(set(keys))


def test_errors_name_every_bad_field_with_its_path() -> None:
    # Given a body with two problems at different depths
    body = {"name": "ok_name", "source_backend": "demo",
            "source_config": {"fps": 99, "subject": "ghost"}}
    # When validated
    with pytest.raises(SchemaValidationError) as err:
        validate("Camera", body)
    # Then both are reported with their full paths
    paths = {e["path"] for e in err.value.errors}
    assert paths == {"source_config.fps", "source_config.subject"}


def test_query_strings_are_coerced_but_bodies_are_strict() -> None:
    # A query string carries text; a JSON body must carry real numbers
    assert validate("ClipQuery", {"page": "2", "alerted": "false"}, coerce=True) == {
        "page": 2, "alerted": False, "page_size": 50}
    with pytest.raises(SchemaValidationError):
        validate("Options", {"scan_interval": "30"})
