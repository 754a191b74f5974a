"""The alert policy: minimum risk, activity filters, per-camera overrides, no-analyzer rule."""

from __future__ import annotations

from typing import Any

import pytest

from homesec_engine.policy import AlertPolicyEngine, fallback_analysis
from homesec_engine.records import Analysis
from homesec_engine.schema import SchemaValidationError, validate


def policy(raw: dict[str, object]) -> AlertPolicyEngine:
    # The runtime hands the policy over validated, with defaults filled in.
    return AlertPolicyEngine(validate("AlertPolicy", raw))


def seen(activity: str, risk: str) -> Analysis:
    return Analysis(activity_type=activity, risk_level=risk, summary="test")


@pytest.mark.parametrize(("minimum", "risk", "alerts"), [
    ("low", "low", True), ("medium", "low", False), ("medium", "medium", True),
    ("high", "medium", False), ("high", "critical", True), ("critical", "high", False),
])
def test_minimum_risk_level(minimum: str, risk: str, alerts: bool) -> None:
    # Given a global minimum risk level
    engine = policy({"min_risk_level": minimum})
    # When a clip of some risk is judged
    decision = engine.decide("front", seen("person", risk), triggered=True)
    # Then only clips at or above the minimum alert, and the reason says why
    assert decision.alert is alerts
    if not alerts:
        assert f"below the minimum {minimum}" in decision.reason


def test_activity_filter_lets_only_listed_activities_alert() -> None:
    # Given a policy that alerts only on persons and deliveries
    engine = policy({"activity_types": ["person", "delivery"]})
    # When clips of several activities are judged
    results = {a: engine.decide("front", seen(a, "high"), triggered=True).alert
               for a in ("person", "delivery", "vehicle", "animal")}
    # Then only the listed activities alert
    assert results == {"person": True, "delivery": True, "vehicle": False, "animal": False}


def test_camera_override_replaces_what_it_sets_and_inherits_the_rest() -> None:
    # Given a global policy and overrides for two cameras
    engine = policy({
        "min_risk_level": "high", "activity_types": ["person"],
        "cameras": {
            "driveway": {"min_risk_level": "low", "activity_types": ["vehicle"]},
            "garden": {"enabled": False},
            "porch": {"min_risk_level": "low"},
        },
    })
    # When the same kinds of clips are judged on each camera
    # Then the driveway alerts on low-risk vehicles only (its own rules)
    assert engine.decide("driveway", seen("vehicle", "low"), triggered=True).alert
    assert not engine.decide("driveway", seen("person", "critical"), triggered=True).alert
    # and the garden never alerts, whatever is seen
    assert not engine.decide("garden", seen("person", "critical"), triggered=True).alert
    # and the porch lowers the risk bar but keeps the global activity filter
    assert engine.decide("porch", seen("person", "low"), triggered=True).alert
    assert not engine.decide("porch", seen("vehicle", "high"), triggered=True).alert
    # and any other camera follows the global policy
    assert not engine.decide("front", seen("person", "medium"), triggered=True).alert
    assert engine.decide("front", seen("person", "high"), triggered=True).alert


def test_no_trigger_class_means_no_alert() -> None:
    # Given the most permissive policy
    engine = policy({})
    # When a clip in which no trigger class was detected is judged
    decision = engine.decide("front", fallback_analysis(["object"]), triggered=False)
    # Then it does not alert
    assert not decision.alert and "trigger" in decision.reason


@pytest.mark.parametrize(("classes", "activity", "risk"), [
    (["animal", "person", "vehicle"], "person", "medium"),
    (["animal", "vehicle"], "vehicle", "low"),
    (["animal", "package"], "package", "low"),
    (["animal"], "animal", "low"),
    (["object"], "other", "low"),
    (["unknown"], "other", "low"),
])
def test_without_an_analyzer_the_most_significant_class_decides(
    classes: list[str], activity: str, risk: str
) -> None:
    # Given what the filter detected (and no analyzer)
    # When the clip is judged on that alone
    analysis = fallback_analysis(classes)
    # Then the activity is the most significant class and the risk follows from it
    assert (analysis.activity_type, analysis.risk_level) == (activity, risk)


def test_tiers_person_and_vehicle_alert_an_animal_is_a_detection() -> None:
    # Given the default policy, and one camera where animals alert too
    from homesec_engine.policy import AlertPolicyEngine, fallback_analysis
    from homesec_engine.schema.validate import validate

    policy = AlertPolicyEngine(validate("AlertPolicy", {
        "cameras": {"barn": {"alert_classes": ["animal", "person"]}}}))

    def decide(camera: str, classes: list[str]) -> tuple[bool, str | None]:
        decision = policy.decide(camera, fallback_analysis(classes), triggered=True,
                                 classes=classes)
        return decision.alert, decision.tier

    # When events of each class are decided
    # Then a person or a vehicle is an alert, an animal a detection (recorded, not notified)
    assert decide("yard", ["person"]) == (True, "alert")
    assert decide("yard", ["vehicle"]) == (True, "alert")
    assert decide("yard", ["animal"]) == (False, "detection")
    assert decide("yard", ["animal", "vehicle"]) == (True, "alert")
    # And the camera's own rule makes its animals alerts
    assert decide("barn", ["animal"]) == (True, "alert")
    # And nothing triggered is neither
    nothing = policy.decide("yard", fallback_analysis([]), triggered=False, classes=[])
    assert (nothing.alert, nothing.tier) == (False, None)


def test_tiers_by_zone_a_zone_rule_decides_for_events_in_that_zone() -> None:
    # Given a camera whose driveway alerts on people and vehicles, whose pavement alerts on
    # nothing, and whose own rule (outside those zones) is the default
    engine = AlertPolicyEngine(validate("AlertPolicy", {"cameras": {"front": {"zones": {
        "driveway": {"alert_classes": ["person", "vehicle"]},
        "pavement": {"alert_classes": []},
        "lawn": {"alert_classes": ["animal"]}}}}}))

    def decide(classes: list[str], zones: list[str]) -> tuple[str | None, str]:
        decision = engine.decide("front", fallback_analysis(classes), triggered=True,
                                 classes=classes, zones=zones)
        return decision.tier, decision.reason

    # When events of each class are decided in each zone
    # Then a person on the driveway alerts, one on the pavement is a detection (and says why)
    assert decide(["person"], ["driveway"])[0] == "alert"
    tier, reason = decide(["person"], ["pavement"])
    assert tier == "detection" and "zone pavement alert_classes: none" in reason
    # And the lawn's own rule makes a fox an alert there (a detection anywhere else)
    assert decide(["animal"], ["lawn"])[0] == "alert"
    assert decide(["animal"], [])[0] == "detection"
    # And an event in two ruled zones alerts when any of them alerts on its classes
    assert decide(["person"], ["pavement", "driveway"])[0] == "alert"
    # And zones without a rule follow the camera's (default) alert_classes
    assert decide(["vehicle"], ["garden_path"])[0] == "alert"


@pytest.mark.parametrize(("zones", "path", "message"), [
    ({"driveway": {"alert_classes": ["dragon"]}},
     "alert_policy.cameras.front.zones.driveway.alert_classes[0]", "must be one of"),
    ({"driveway": {}}, "alert_policy.cameras.front.zones.driveway.alert_classes",
     "is required"),
    ({"driveway": ["person"]}, "alert_policy.cameras.front.zones.driveway", ""),
])
def test_a_wrong_zone_tier_rule_is_refused_naming_the_field(
    zones: Any, path: str, message: str
) -> None:
    # Given an alert policy with a bad zone rule, When the engine validates it
    with pytest.raises(SchemaValidationError) as err:
        validate("AlertPolicy", {"cameras": {"front": {"zones": zones}}},
                 prefix="alert_policy")
    # Then the error names the field and says what is wrong
    assert any(e["path"] == path and message in e["message"] for e in err.value.errors), \
        err.value.errors
