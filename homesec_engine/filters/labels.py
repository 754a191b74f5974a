"""Map any detector's label names onto HomeSec's classes (records.DETECTION_CLASSES)."""

from __future__ import annotations

_ALIASES: dict[str, tuple[str, ...]] = {
    "person": ("person", "people", "pedestrian", "human", "man", "woman", "child", "face"),
    "vehicle": ("vehicle", "car", "truck", "bus", "motorcycle", "motorbike", "bicycle", "bike",
                "van", "train", "boat"),
    "animal": ("animal", "dog", "cat", "bird", "horse", "sheep", "cow", "bear", "deer", "fox",
               "raccoon", "squirrel", "rabbit"),
    "package": ("package", "parcel", "box", "suitcase", "backpack", "handbag", "bag"),
    "unknown": ("unknown",),
}
_LOOKUP = {alias: cls for cls, aliases in _ALIASES.items() for alias in aliases}
# Labels that mean "nothing here" in classifier heads; they never become detections.
IGNORED_LABELS = frozenset({"background", "__background__", "none", "nothing", "empty"})


def normalize_label(label: str) -> str | None:
    """The HomeSec class for a detector label; None for background labels.

    Known aliases map to their class; anything else a detector names is an `object`.
    """
    key = label.strip().lower().replace("-", "_").replace(" ", "_")
    if key in IGNORED_LABELS:
        return None
    return _LOOKUP.get(key, "object")
