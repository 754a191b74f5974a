"""More engine-vs-integration parity: every branch of the shared validator, both sides.

tests/schema/test_generated.py checks typical inputs; this module walks the validator's
edges (URL ports and schemes, string lengths, coercion of query strings, non-finite numbers,
boolean words, nullable fields, map keys, list limits, extra fields, date-times with and
without offsets). Each case states what a user sees (accepted, or the error paths named) and
is run through the engine's `validate` and the integration's generated copy: both must give
that verdict with the same cleaned value or the same error items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import voluptuous as vol

from custom_components.homesec.generated import schema_data
from custom_components.homesec.generated import vol_render as integration_render
from homesec_engine.schema import SchemaValidationError, validate
from homesec_engine.schema import vol_render as engine_render

RTSP = "rtsp"


def _rtsp(**source: Any) -> dict[str, Any]:
    return {"name": "front", "source_backend": RTSP, "source_config": source}


def _health(**extra: Any) -> dict[str, Any]:
    return {"status": "healthy", "pipeline": "running", "database": "up",
            "cameras_online": 1, "version": "1.2.3", **extra}


@dataclass(frozen=True)
class Case:
    """One input, the options it is validated with, and the verdict a user should get."""

    id: str
    model: str
    data: Any
    accepted: bool
    paths: tuple[str, ...] = ()  # error paths when refused
    coerce: bool = False
    partial: bool = False
    expect: dict[str, Any] = field(default_factory=dict)  # fields of the cleaned value


CASES: list[Case] = [
    # -- strings ------------------------------------------------------------------------
    Case("str-not-a-string", "Connection", {"host": 5, "port": 8080}, False, ("host",)),
    Case("str-too-long", "Connection", {"host": "h" * 254, "port": 8080}, False, ("host",)),
    Case("str-longest-allowed", "Connection", {"host": "h" * 253}, True,
         expect={"port": 8080, "api_key": ""}),
    Case("str-max-len-query", "ClipQuery", {"activity_type": "x" * 65}, False,
         ("activity_type",)),
    # -- URLs ---------------------------------------------------------------------------
    Case("url-not-a-string", "Camera", _rtsp(url=5), False, ("source_config.url",)),
    Case("url-port-out-of-range", "Camera", _rtsp(url="rtsp://cam:99999/1"), False,
         ("source_config.url",)),
    Case("url-port-not-a-number", "Camera", _rtsp(url="rtsp://cam:abc/1"), False,
         ("source_config.url",)),
    Case("url-wrong-scheme", "Camera", _rtsp(url="http://cam/1"), False,
         ("source_config.url",)),
    Case("url-no-host", "Camera", _rtsp(url="rtsp:///stream"), False,
         ("source_config.url",)),
    Case("url-with-credentials", "Camera", _rtsp(url="rtsp://admin:secret@cam/1"), False,
         ("source_config.url",)),
    Case("url-with-port", "Camera", _rtsp(url="rtsps://cam:8554/1"), True),
    Case("url-public-url-https", "Config", {"server": {"public_url": "https://x.example"}},
         True),
    Case("url-public-url-ftp", "Config", {"server": {"public_url": "ftp://x.example"}},
         False, ("server.public_url",)),
    # -- nullable -------------------------------------------------------------------------
    Case("nullable-url-with-env", "Camera", _rtsp(url=None, url_env="FRONT_URL"), True),
    Case("nullable-both-null", "Camera", _rtsp(url=None, url_env=None), False,
         ("source_config.url",)),
    Case("one-of-both-set", "Camera", _rtsp(url="rtsp://cam/1", url_env="FRONT_URL"), False,
         ("source_config.url",)),
    Case("nullable-policy-level", "AlertPolicy",
         {"cameras": {"front": {"min_risk_level": None, "enabled": None}}}, True),
    # -- integers and floats ----------------------------------------------------------------
    Case("int-from-string-coerced", "ClipQuery", {"page": "2", "page_size": "50"}, True,
         coerce=True, expect={"page": 2, "page_size": 50}),
    Case("int-from-bad-string", "ClipQuery", {"page": "two"}, False, ("page",), coerce=True),
    Case("int-from-float-string", "ClipQuery", {"page": "1.5"}, False, ("page",),
         coerce=True),
    Case("int-string-without-coerce", "ClipQuery", {"page": "2"}, False, ("page",)),
    Case("int-whole-float", "ClipQuery", {"page": 3.0}, True, expect={"page": 3}),
    Case("int-fractional-float", "ClipQuery", {"page": 1.5}, False, ("page",)),
    Case("int-bool-is-not-a-number", "ClipQuery", {"page": True}, False, ("page",)),
    Case("int-below-min", "ClipQuery", {"page": 0}, False, ("page",)),
    Case("float-from-string-coerced", "DemoSourceConfig", {"interval_s": "2.5"}, True,
         coerce=True, expect={"interval_s": 2.5}),
    Case("float-from-bad-string", "DemoSourceConfig", {"interval_s": "soon"}, False,
         ("interval_s",), coerce=True),
    Case("float-from-int", "DemoSourceConfig", {"interval_s": 5}, True,
         expect={"interval_s": 5.0}),
    Case("float-nan", "DemoSourceConfig", {"interval_s": float("nan")}, False,
         ("interval_s",)),
    Case("float-infinite", "DemoSourceConfig", {"interval_s": float("inf")}, False,
         ("interval_s",)),
    Case("float-nan-string-coerced", "DemoSourceConfig", {"interval_s": "nan"}, False,
         ("interval_s",), coerce=True),
    Case("float-above-max", "RtspSourceConfig",
         {"url_env": "FRONT_URL", "sensitivity": 1.5}, False, ("sensitivity",)),
    # -- booleans -------------------------------------------------------------------------
    Case("bool-yes-coerced", "ClipQuery", {"alerted": "yes"}, True, coerce=True,
         expect={"alerted": True}),
    Case("bool-OFF-coerced", "ClipQuery", {"alerted": "OFF"}, True, coerce=True,
         expect={"alerted": False}),
    Case("bool-one-coerced", "ClipQuery", {"alerted": "1"}, True, coerce=True,
         expect={"alerted": True}),
    Case("bool-maybe", "ClipQuery", {"alerted": "maybe"}, False, ("alerted",), coerce=True),
    Case("bool-string-without-coerce", "ClipQuery", {"alerted": "true"}, False,
         ("alerted",)),
    Case("bool-int-is-not-a-bool", "Connection", {"host": "h", "ssl": 1}, False, ("ssl",)),
    # -- date-times -----------------------------------------------------------------------
    Case("datetime-z", "ClipQuery", {"since": "2026-01-01T00:00:00Z"}, True,
         expect={"since": datetime(2026, 1, 1, tzinfo=UTC)}),
    Case("datetime-offset-to-utc", "ClipQuery", {"since": "2026-01-01T02:00:00+02:00"}, True,
         expect={"since": datetime(2026, 1, 1, tzinfo=UTC)}),
    Case("datetime-naive-is-utc", "ClipQuery", {"since": "2026-01-01T05:06:07"}, True,
         expect={"since": datetime(2026, 1, 1, 5, 6, 7, tzinfo=UTC)}),
    Case("datetime-object", "ClipQuery",
         {"until": datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))}, True,
         expect={"until": datetime(2026, 1, 1, tzinfo=UTC)}),
    Case("datetime-garbage", "ClipQuery", {"since": "yesterday"}, False, ("since",)),
    Case("datetime-number", "ClipQuery", {"since": 1767225600}, False, ("since",)),
    Case("datetime-month-13", "ClipQuery", {"since": "2026-13-01T00:00:00"}, False,
         ("since",)),
    Case("datetime-before-year-1", "ClipQuery", {"since": "0001-01-01T00:00:00+01:00"},
         False, ("since",)),
    Case("datetime-nullable-heartbeat", "CameraHealthEvent",
         {"camera": "front", "healthy": True, "last_heartbeat": None}, True),
    # -- objects, lists and maps ----------------------------------------------------------
    Case("object-not-a-dict", "Camera",
         {"name": "front", "source_backend": "demo", "source_config": []}, False,
         ("source_config",)),
    Case("model-not-a-dict", "Connection", "homesec.local:8080", False, ("",)),
    Case("nested-model-not-a-dict", "Config", {"server": 8080}, False, ("server",)),
    Case("list-not-a-list", "AlertPolicy", {"activity_types": "person"}, False,
         ("activity_types",)),
    Case("list-bad-items", "AlertPolicy", {"activity_types": ["person", 7, "dancing"]},
         False, ("activity_types[1]", "activity_types[2]")),
    Case("list-of-models-bad-items", "Config",
         {"cameras": [{"name": "ok", "source_backend": "demo", "source_config": {}},
                      {"name": "Bad!", "source_backend": "ftp", "source_config": {}}]},
         False, ("cameras[1].name", "cameras[1].source_backend")),
    Case("list-model-item-not-a-dict", "Config", {"cameras": ["front"]}, False,
         ("cameras[0]",)),
    Case("map-not-a-dict", "AlertPolicy", {"cameras": ["front"]}, False, ("cameras",)),
    Case("map-bad-key", "AlertPolicy", {"cameras": {"Front Door": {}}}, False,
         ("cameras.Front Door",)),
    Case("map-value-errors", "AlertPolicy",
         {"cameras": {"front": {"min_risk_level": "extreme", "enabled": "no"}}}, False,
         ("cameras.front.min_risk_level", "cameras.front.enabled")),
    Case("map-value-not-a-dict", "AlertPolicy", {"cameras": {"front": "high"}}, False,
         ("cameras.front",)),
    # -- extra fields and partial updates --------------------------------------------------
    Case("extra-allowed-and-kept", "Health", _health(uptime=12), True,
         expect={"uptime": 12}),
    Case("extra-forbidden", "Connection", {"host": "h", "password": "x"}, False,
         ("password",)),
    Case("extra-allow-still-checks-known", "Health", _health(cameras_online=-1), False,
         ("cameras_online",)),
    Case("partial-update-no-defaults", "CameraUpdate", {"enabled": False}, True,
         partial=True, expect={"enabled": False}),
    Case("partial-update-checks-fields", "CameraUpdate", {"config_version": -1}, False,
         ("config_version",), partial=True),
    Case("partial-update-unknown-field", "CameraUpdate", {"name": "x"}, False, ("name",),
         partial=True),
]


def _engine(case: Case) -> tuple[bool, Any]:
    try:
        return True, validate(case.model, case.data, coerce=case.coerce, partial=case.partial)
    except SchemaValidationError as err:
        return False, err.errors


def _integration(case: Case) -> tuple[bool, Any]:
    check = integration_render.model_validator(
        schema_data.MODELS, case.model, coerce=case.coerce, partial=case.partial
    )
    try:
        return True, check(case.data)
    except vol.Invalid as err:
        return False, integration_render.error_items(err)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_both_validators_give_the_same_verdict(case: Case) -> None:
    # Given one input with its validation options
    # When the engine and the integration's generated validator both check it
    engine = _engine(case)
    integration = _integration(case)
    # Then they agree on the verdict and on the cleaned value or every error item
    assert engine == integration
    # And the verdict is the one a user should get
    accepted, result = engine
    assert accepted is case.accepted, result
    if accepted:
        assert {k: result[k] for k in case.expect} == case.expect
    else:
        assert tuple(sorted(e["path"] for e in result)) == tuple(sorted(case.paths))
        assert all(e["message"] for e in result)


def test_partial_updates_get_no_defaults() -> None:
    # Given an update body that only turns a camera off
    body = {"enabled": False}
    # When both sides validate it as a partial update and as a whole camera
    partial = (_engine(Case("p", "CameraUpdate", body, True, partial=True)),
               _integration(Case("p", "CameraUpdate", body, True, partial=True)))
    # Then the partial one carries only what was sent (no default would overwrite config)
    assert partial[0] == partial[1] == (True, {"enabled": False})


# A declaration table of our own: the real models have no list with a length limit, but the
# validator supports one, and both copies of the code must treat it alike.
CUSTOM_MODELS: dict[str, Any] = {
    "Zone": {"fields": {
        "name": {"type": "str", "required": True, "min_len": 2},
        "points": {"type": "list", "items": {"type": "int", "min": 0}, "max_len": 3},
    }},
    "Floor": {"fields": {
        "zones": {"type": "list", "items": {"type": "model", "model": "Zone"},
                  "unique_by": "name", "default": []},
        "labels": {"type": "map", "values": {"type": "str"}, "nullable": True},
    }, "extra": "allow"},
}

CUSTOM_CASES: list[tuple[str, Any, bool, tuple[str, ...]]] = [
    ("list-max-len-ok", {"zones": [{"name": "yard", "points": [0, 1, 2]}]}, True, ()),
    ("list-max-len-exceeded", {"zones": [{"name": "yard", "points": [0, 1, 2, 3]}]}, False,
     ("zones[0].points",)),
    ("list-item-and-model-errors", {"zones": [{"name": "y", "points": [-1]}]}, False,
     ("zones[0].name", "zones[0].points[0]")),
    ("unique-by-duplicate", {"zones": [{"name": "yard"}, {"name": "yard"}]}, False,
     ("zones[1].name",)),
    ("map-nullable-none", {"labels": None, "note": "kept"}, True, ()),
    # (JSON keys are always strings; a Python int key is named like an index)
    ("map-key-not-a-string", {"labels": {1: "one"}}, False, ("labels[1]",)),
    ("map-value-wrong-type", {"labels": {"a": 1}}, False, ("labels.a",)),
]


def _run(render: Any, data: Any) -> tuple[bool, Any]:
    try:
        return True, render.model_validator(CUSTOM_MODELS, "Floor")(data)
    except vol.Invalid as err:
        return False, render.error_items(err)


@pytest.mark.parametrize(("case_id", "data", "accepted", "paths"), CUSTOM_CASES,
                         ids=[c[0] for c in CUSTOM_CASES])
def test_both_copies_of_the_validator_agree_on_other_declarations(
    case_id: str, data: Any, accepted: bool, paths: tuple[str, ...]
) -> None:
    # Given declarations that use list limits, unique keys and nullable maps
    # When the engine's validator module and the integration's copy check the same input
    engine = _run(engine_render, data)
    integration = _run(integration_render, data)
    # Then they agree, and the verdict and error paths are the expected ones
    assert engine == integration
    assert engine[0] is accepted, engine[1]
    if not accepted:
        assert tuple(sorted(e["path"] for e in engine[1])) == tuple(sorted(paths))


def test_the_cases_cover_both_verdicts_and_every_option() -> None:
    # A parity suite where everything passes (or fails) would prove nothing.
    verdicts = [c.accepted for c in CASES]
    assert verdicts.count(True) >= 10 and verdicts.count(False) >= 10
    assert any(c.coerce for c in CASES) and any(c.partial for c in CASES)
