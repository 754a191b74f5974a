"""Alert-policy rules name cameras and zones that exist, on every live change through the API:
a rule for a missing zone or camera is a 400 naming the field; removing or renaming a zone a
rule names, or removing a camera whose rules are in the config file, is a 400 that says to
remove the rule first. Nothing is changed or dropped by a refused change. A camera removed at
run time takes its own run-time rules with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.engine_harness import RunningEngine, running_engine

from .conftest import Api, assert_error

DRIVEWAY = {"name": "driveway", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
PATH = {"name": "path", "points": [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]}
PLAZA = {"name": "plaza", "source_backend": "demo", "source_config": {"interval_s": 3600},
         "zones": [DRIVEWAY, PATH]}
RULE = {"cameras": {"plaza": {"zones": {"driveway": {"alert_classes": ["person"]}}}}}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[RunningEngine]:
    async with running_engine(tmp_path, cameras=[PLAZA]) as running:
        yield running


@pytest.fixture
async def api(engine: RunningEngine) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, engine)


def _refused(status: int, body: Any, path: str) -> str:
    """The message of the 400 for `path` (the one field named)."""
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert [e["path"] for e in error["errors"]] == [path], error
    message: str = error["errors"][0]["message"]
    return message


async def _state(api: Api) -> tuple[Any, Any]:
    _, policy, _ = await api.call("GET", "/alert-policy")
    _, camera, _ = await api.call("GET", "/cameras/plaza")
    return policy, camera


async def test_a_rule_for_a_zone_or_camera_that_is_not_there_is_refused(
    api: Api, engine: RunningEngine
) -> None:
    # Given camera plaza with the zones driveway and path
    before = await _state(api)
    # When a rule is sent for a mistyped zone
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": {
        "cameras": {"plaza": {"zones": {"drivewy": {"alert_classes": ["person"]}}}}}})
    # Then it is a 400 naming the field and the zones the camera has
    message = _refused(status, body, "alert_policy.cameras.plaza.zones.drivewy")
    assert message == 'camera plaza has no zone "drivewy" (its zones: driveway, path)'
    # When a rule is sent for a camera that does not exist
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": {
        "cameras": {"plazza": {"enabled": False}}}})
    # Then it is a 400 naming that field and the cameras there are
    message = _refused(status, body, "alert_policy.cameras.plazza")
    assert message == 'no camera named "plazza" (cameras: plaza)'
    # And nothing changed: neither the stored policy and version nor what the engine applies
    assert await _state(api) == before
    assert engine.runtime.policy.cameras == {}


async def test_a_zone_a_rule_names_cannot_go_until_the_rule_does(
    api: Api, engine: RunningEngine
) -> None:
    # Given a rule for people on plaza's driveway
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": RULE})
    assert status == 200, body
    before = await _state(api)
    # When the driveway is renamed (the camera's zones replaced)
    renamed = [{**DRIVEWAY, "name": "drive"}, PATH]
    status, body, _ = await api.call("PUT", "/cameras/plaza", json_body={"zones": renamed})
    # Then it is a 400 naming the rule and saying to remove it first
    message = _refused(status, body, "alert_policy.cameras.plaza.zones.driveway")
    assert 'names zone "driveway" of camera plaza: remove the rule' in message, message
    assert "then remove or rename the zone" in message
    # And the camera, its zones and the rule are all still there, in the running engine too
    assert await _state(api) == before
    pipeline = engine.runtime.pipeline
    assert pipeline is not None
    assert [z.name for z in pipeline.zones_of("plaza").zones] == ["driveway", "path"]
    assert engine.runtime.policy.effective("plaza")["zones"] == {"driveway": ["person"]}
    # When the user removes the rule first
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": {}})
    assert status == 200, body
    # Then the zone can be renamed
    status, body, _ = await api.call("PUT", "/cameras/plaza", json_body={"zones": renamed})
    assert status == 200, body


async def test_a_removed_camera_takes_its_own_rules_with_it(api: Api) -> None:
    # Given plaza with an alert rule on its driveway and its own keep times, both set
    # through the API
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": {
        "min_risk_level": "medium", **RULE}})
    assert status == 200, body
    status, body, _ = await api.call("PUT", "/cameras/plaza",
                                     json_body={"retention": {"keep_days": 3}})
    assert status == 200, body
    # When the camera is removed
    status, body, _ = await api.call("DELETE", "/cameras/plaza")
    # Then it is removed, its rules with it, and the rest of the policy stays
    assert status == 200, body
    _, policy, _ = await api.call("GET", "/alert-policy")
    assert policy["alert_policy"]["cameras"] == {}
    assert policy["alert_policy"]["min_risk_level"] == "medium"
    # And a camera added again under that name starts with none of them
    status, body, _ = await api.call("POST", "/cameras", json_body=PLAZA)
    assert status == 201, body
    _, camera, _ = await api.call("GET", "/cameras/plaza")
    assert camera["retention"] is None, camera


async def test_a_camera_whose_rules_are_in_the_config_file_stays_until_they_go(
    tmp_path: Path,
) -> None:
    # Given the config file gives plaza a rule for its driveway
    async with running_engine(tmp_path, cameras=[PLAZA], config={"alert_policy": RULE}) as engine:
        async with aiohttp.ClientSession() as session:
            api = Api(session, engine)
            # When the camera is removed through the API
            status, body, _ = await api.call("DELETE", "/cameras/plaza")
            # Then it is a 400 naming the rule and saying to remove it from the file first
            message = _refused(status, body, "alert_policy.cameras.plaza")
            assert "in the config file's alert_policy: remove them there first" in message
            # And the camera is still there
            status, _, _ = await api.call("GET", "/cameras/plaza")
            assert status == 200


async def test_a_new_camera_takes_rules_once_it_exists(api: Api) -> None:
    # Given no camera yard: a rule for it is refused
    yard_rule = {"cameras": {"yard": {"zones": {"lawn": {"alert_classes": ["animal"]}}}}}
    status, body, _ = await api.call("PUT", "/alert-policy",
                                     json_body={"alert_policy": yard_rule})
    _refused(status, body, "alert_policy.cameras.yard")
    # When the camera is added with its lawn zone
    status, body, _ = await api.call("POST", "/cameras", json_body={
        "name": "yard", "source_backend": "demo", "source_config": {"interval_s": 3600},
        "zones": [{**PATH, "name": "lawn"}]})
    assert status == 201, body
    # Then the same rule is accepted
    status, body, _ = await api.call("PUT", "/alert-policy",
                                     json_body={"alert_policy": yard_rule})
    assert status == 200, body
