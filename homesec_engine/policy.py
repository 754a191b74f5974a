"""The alert policy: which analysed clips become alerts.

Rules, in order, for a clip of camera C (an override in `cameras[C]` replaces the global
value it sets; unset or empty values inherit the global ones):

1. nothing of a trigger class was detected                -> no alert
2. the camera's override has `enabled: false`             -> no alert
3. the risk level is below `min_risk_level`               -> no alert
4. `activity_types` is non-empty and lacks the activity   -> no alert
5. none of the event's classes is in `alert_classes`      -> no alert: a detection
   (an event in zones that `cameras[C].zones` names takes those zones' alert_classes
   instead, any of them when in several; an empty list there: nothing in that zone alerts)
6. otherwise                                              -> alert

The tier: an event that alerts is an `alert`; one that was triggered but does not alert is a
`detection` (recorded and reviewable, not notified). By default person and vehicle alert, an
animal is a detection.

Without an analyzer (disabled, or it failed) the clip is judged on what the filter saw:
the activity is the most significant detected class (person > vehicle > package > animal >
object; object and unknown map to the activity `other`), and the risk is derived from it:
a person is `medium`, anything else `low`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .records import Analysis, AlertDecision, risk_rank
from .schema.config import ACTIVITY_TYPES
from .schema.validate import model_defaults

SIGNIFICANCE = ("person", "vehicle", "package", "animal", "object", "unknown")
_CLASS_ACTIVITY = {"person": "person", "vehicle": "vehicle", "package": "package",
                   "animal": "animal", "object": "other", "unknown": "other"}
_CLASS_RISK = {"person": "medium"}



def fallback_analysis(classes: Iterable[str],
                      priority: Sequence[str] = SIGNIFICANCE) -> Analysis:
    """The analysis of a clip judged on its detected classes alone (no analyzer): the
    activity is the first of `priority` (the tracking section's activity_priority) found."""
    found = set(classes)
    ordered = [c for c in (*priority, *SIGNIFICANCE) if c in found]
    ordered = list(dict.fromkeys(ordered))
    if not ordered:
        return Analysis(activity_type="other", risk_level="low", summary="No object detected.")
    top = ordered[0]
    activity = _CLASS_ACTIVITY[top]
    assert activity in ACTIVITY_TYPES
    names = ", ".join(ordered)
    return Analysis(activity_type=activity, risk_level=_CLASS_RISK.get(top, "low"),
                    summary=f"Detected: {names}.")


class AlertPolicyEngine:
    """Applies one validated AlertPolicy dict; replace it whole to change the policy."""

    def __init__(self, policy: dict[str, Any] | None = None) -> None:
        policy = policy or {}
        self.policy = policy
        self.min_risk_level: str = policy.get("min_risk_level") or "low"
        self.activity_types: list[str] = list(policy.get("activity_types") or [])
        self.cameras: dict[str, dict[str, Any]] = dict(policy.get("cameras") or {})
        self.alert_classes: list[str] = list(
            policy["alert_classes"] if "alert_classes" in policy
            else model_defaults("AlertPolicy")["alert_classes"])

    def effective(self, camera: str) -> dict[str, Any]:
        """The rules that apply to `camera` after its override."""
        override = self.cameras.get(camera) or {}
        enabled = override.get("enabled")
        return {
            "enabled": True if enabled is None else bool(enabled),
            "min_risk_level": override.get("min_risk_level") or self.min_risk_level,
            "activity_types": list(override.get("activity_types") or self.activity_types),
            "alert_classes": list(override.get("alert_classes") or self.alert_classes),
            "zones": {name: list(rule.get("alert_classes") or [])
                      for name, rule in (override.get("zones") or {}).items()},
        }

    @staticmethod
    def tier_classes(rules: dict[str, Any], zones: Iterable[str] | None) -> tuple[list[str], str]:
        """The classes that alert for an event in `zones`, and where that rule comes from."""
        ruled = sorted({z for z in zones or () if z in rules["zones"]})
        if not ruled:
            return rules["alert_classes"], "alert_classes"
        classes = sorted({c for z in ruled for c in rules["zones"][z]})
        return classes, f"zone {', '.join(ruled)} alert_classes"

    def decide(self, camera: str, analysis: Analysis, *, triggered: bool,
               classes: Iterable[str] | None = None,
               zones: Iterable[str] | None = None) -> AlertDecision:
        """`classes`: the event's classes that moved, for the tier (None: not known);
        `zones`: the zones they were in (a zone may have its own tier rule)."""
        rules = self.effective(camera)
        alert_classes, rule = self.tier_classes(rules, zones)
        decision = AlertDecision(alert=False, reason="", risk_level=analysis.risk_level,
                                 activity_type=analysis.activity_type)
        if not triggered:
            decision.reason = "no trigger class detected"
        elif not rules["enabled"]:
            decision.reason = f"alerts are disabled for camera {camera}"
        elif risk_rank(analysis.risk_level) < risk_rank(rules["min_risk_level"]):
            decision.reason = (f"risk {analysis.risk_level} is below the minimum "
                               f"{rules['min_risk_level']}")
        elif rules["activity_types"] and analysis.activity_type not in rules["activity_types"]:
            decision.reason = f"activity {analysis.activity_type} is not one that alerts"
        elif classes is not None and not set(classes) & set(alert_classes):
            decision.reason = (f"{', '.join(sorted(set(classes)))} is a detection, not an "
                               f"alert ({rule}: {', '.join(alert_classes) or 'none'})")
        else:
            decision.alert = True
            decision.reason = f"{analysis.activity_type} at risk {analysis.risk_level}"
        decision.tier = "alert" if decision.alert else ("detection" if triggered else None)
        return decision
