"""Zones and motion masks in the schema: bad polygons are refused with the field named, by the
engine and by the integration's generated copy of the validator alike."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from custom_components.homesec.generated import schema_data
from custom_components.homesec.generated.vol_render import error_items, model_validator
from homesec_engine.schema import SchemaValidationError, validate

CAMERA = {"name": "door", "source_backend": "demo", "source_config": {}}
SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


def engine_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(SchemaValidationError) as err:
        validate("Camera", body)
    return err.value.errors


@pytest.mark.parametrize(("zones", "path", "message"), [
    ([{"name": "a", "points": [[0, 0], [1, 0]]}], "zones[0].points", "at least 3 points"),
    ([{"name": "a", "points": [[0, 0], [1.5, 0], [1, 1]]}], "zones[0].points[1][0]",
     "between 0 and 1"),
    ([{"name": "a", "points": [[0, 0], [0, -0.1], [1, 1]]}], "zones[0].points[1][1]",
     "between 0 and 1"),
    ([{"name": "a", "points": [[0, 0], [0.5, 0.5], [1, 1]]}], "zones[0].points",
     "enclose no area"),
    ([{"name": "a", "points": [[0.2, 0.2]] * 4}], "zones[0].points", "enclose no area"),
    ([{"name": "a", "points": [[0, 0], [1, 0, 3], [1, 1]]}], "zones[0].points[1]",
     "point [x, y]"),
    ([{"name": "a", "points": [[0, 0], ["x", 0], [1, 1]]}], "zones[0].points[1][0]",
     "expected a number"),
    ([{"name": "a", "points": SQUARE}, {"name": "a", "points": SQUARE}], "zones[1].name",
     "duplicate name"),
    ([{"name": "", "points": SQUARE}], "zones[0].name", "at least 1"),
    ([{"name": "a", "points": SQUARE, "classes": ["dragon"]}], "zones[0].classes[0]",
     "must be one of"),
    ([{"points": SQUARE}], "zones[0].name", "is required"),
    ("everywhere", "zones", "expected a list"),
])
def test_bad_zones_are_refused_naming_the_field(zones: Any, path: str, message: str) -> None:
    # Given a camera with a bad zone, When the engine validates it
    errors = engine_errors({**CAMERA, "zones": zones})
    # Then the error names the field and says what is wrong
    assert any(e["path"] == path and message in e["message"] for e in errors), errors
    # And Home Assistant's generated validator refuses it the same way
    with pytest.raises(vol.Invalid) as ha_err:
        model_validator(schema_data.MODELS, "Camera")({**CAMERA, "zones": zones})
    assert error_items(ha_err.value) == errors


def test_bad_motion_masks_are_refused_naming_the_field() -> None:
    # Given a motion mask with too few points, When validated
    errors = engine_errors({**CAMERA, "motion_masks": [{"name": "tree", "points": [[0, 0]]}]})
    # Then the mask's points are named
    assert errors == [{"path": "motion_masks[0].points", "message": "needs at least 3 points"}]


def test_good_zones_and_masks_are_kept_with_their_defaults() -> None:
    # Given a camera with a zone (no classes given) and a mask
    body = {**CAMERA, "zones": [{"name": "Front path", "points": SQUARE}],
            "motion_masks": [{"name": "tree", "points": [[0, 0], [0.3, 0], [0.3, 0.4]]}]}
    # When validated
    camera = validate("Camera", body)
    # Then both are kept, the zone taking every trigger class (an empty list)
    assert camera["zones"] == [{"name": "Front path", "points": SQUARE, "classes": []}]
    assert camera["motion_masks"][0]["points"][2] == [0.3, 0.4]
    # And a camera without any has empty lists
    assert validate("Camera", CAMERA)["zones"] == []
    assert validate("Camera", CAMERA)["motion_masks"] == []
