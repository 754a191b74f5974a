"""COCO-80 label names and how they map onto HomeSec's classes.

Stock detector exports (NanoDet, YOLO, YOLOX) number COCO's 80 classes 0..79; SSD graphs from
the TensorFlow Object Detection API use the original 1..90 ids with gaps (`COCO91_IDS`).
COCO has no `package` class: a suitcase or backpack is not a delivery, so nothing maps to it,
and classes outside the table (chairs, cups, ...) are dropped rather than reported.
"""

from __future__ import annotations

COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)
# The 1-based ids of the 80 classes in COCO's original 90-id numbering (SSD exports).
COCO91_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27,
    28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53,
    54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80,
    81, 82, 84, 85, 86, 87, 88, 89, 90,
)
_HOMESEC_CLASS = {
    "person": "person",
    **dict.fromkeys(("car", "truck", "bus", "motorcycle", "bicycle"), "vehicle"),
    **dict.fromkeys(("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
                     "giraffe"), "animal"),
}
# COCO-80 index -> HomeSec class (None: not a class HomeSec reports).
CLASS_BY_INDEX: tuple[str | None, ...] = tuple(_HOMESEC_CLASS.get(name) for name in COCO80)
_INDEX_BY_COCO91 = {coco_id: index for index, coco_id in enumerate(COCO91_IDS)}


def homesec_class(index: int) -> str | None:
    """The HomeSec class of a COCO-80 index; None for classes HomeSec does not report."""
    return CLASS_BY_INDEX[index] if 0 <= index < len(CLASS_BY_INDEX) else None


def coco80_from_coco91(coco_id: int) -> int:
    """The COCO-80 index of an original COCO id; -1 when the id is not one of the 80."""
    return _INDEX_BY_COCO91.get(coco_id, -1)
