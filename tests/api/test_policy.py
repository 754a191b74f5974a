"""The alert policy: read, replace (applied live), conflicts and validation."""

from __future__ import annotations

from tests.engine_harness import RunningEngine

from .conftest import Api, assert_error, assert_valid

POLICY = {"min_risk_level": "high", "activity_types": ["person", "intrusion"],
          "cameras": {"garage": {"min_risk_level": "critical", "enabled": False}}}


async def test_read_the_default_policy(api: Api) -> None:
    status, body, _ = await api.call("GET", "/alert-policy")
    assert status == 200
    assert_valid("AlertPolicyView", body)
    assert body["alert_policy"]["min_risk_level"] == "low" and body["config_version"] == 1


async def test_replacing_the_policy_applies_it_live(api: Api, engine: RunningEngine) -> None:
    # When the policy is replaced
    status, body, _ = await api.call("PUT", "/alert-policy",
                                     json_body={"alert_policy": POLICY, "config_version": 1})
    # Then the change needs no restart, the runtime uses it at once, and reading agrees
    assert status == 200, body
    assert_valid("ChangeResult", body)
    assert body == {"restart_required": False, "restart_fields": [], "config_version": 2}
    assert engine.runtime.policy.min_risk_level == "high"
    _, view, _ = await api.call("GET", "/alert-policy")
    assert view["alert_policy"]["cameras"]["garage"]["enabled"] is False
    _, status_body, _ = await api.call("GET", "/status")
    assert status_body["restart_required"] is False


async def test_a_stale_policy_change_is_409(api: Api, engine: RunningEngine) -> None:
    # Given someone else changed the policy (version 2)
    await api.call("PUT", "/alert-policy", json_body={"alert_policy": POLICY})
    # When a change made against version 1 arrives
    status, body, _ = await api.call("PUT", "/alert-policy",
                                     json_body={"alert_policy": {"min_risk_level": "low"},
                                                "config_version": 1})
    # Then it is refused and the runtime keeps the newer policy
    assert_error(status, body, 409, "CONFIG_VERSION_CONFLICT")
    assert body["current_version"] == 2
    assert engine.runtime.policy.min_risk_level == "high"


async def test_an_invalid_policy_names_the_fields(api: Api) -> None:
    status, body, _ = await api.call("PUT", "/alert-policy", json_body={"alert_policy": {
        "min_risk_level": "apocalyptic", "activity_types": ["dancing"],
        "cameras": {"Bad Name": {}}}})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    paths = {e["path"] for e in error["errors"]}
    assert {"alert_policy.min_risk_level", "alert_policy.activity_types[0]"} <= paths, paths


async def test_what_get_returns_can_be_put_back_as_it_is(api: Api, engine: RunningEngine) -> None:
    # Given the policy as GET returns it
    _, view, _ = await api.call("GET", "/alert-policy")
    # When a user edits one field of that document and PUTs the whole document back
    view["alert_policy"]["min_risk_level"] = "critical"
    status, body, _ = await api.call("PUT", "/alert-policy", json_body=view)
    # Then it is accepted and GET shows the edit in the same shape, one version on
    assert status == 200, body
    _, again, _ = await api.call("GET", "/alert-policy")
    assert again == {**view, "config_version": view["config_version"] + 1}
    assert engine.runtime.policy.min_risk_level == "critical"


async def test_the_old_flat_body_is_refused_with_the_fields_named(api: Api) -> None:
    # Given a client that still sends the policy fields at the top level (the shape before this change)
    status, body, _ = await api.call("PUT", "/alert-policy",
                                     json_body={"min_risk_level": "high"})
    # Then it is a 400 that says where the policy goes and which key is unknown
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    paths = {e["path"] for e in error["errors"]}
    assert {"alert_policy", "min_risk_level"} <= paths, error
