"""Each detector family's decoder, on small real ONNX graphs shaped like that family's exports.

The graphs come from graphs.py (no model of these families installs offline); the shipped
CenterNet itself is exercised on real photos in test_shipped_model.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.filters import DetectorFilter  # noqa: E402

from . import graphs  # noqa: E402

# The letterboxed frame is the input itself: a 96 x 64 frame maps 1:1.
FRAME = np.full((graphs.H, graphs.W, 3), 120, dtype=np.uint8)
EXPECTED = (graphs.BOX[0] / graphs.W, graphs.BOX[1] / graphs.H,
            graphs.SIZE[0] / graphs.W, graphs.SIZE[1] / graphs.H)


async def started(path: Path, **config: object) -> DetectorFilter:
    detector = DetectorFilter({"model_path": str(path), "min_confidence": 0.5,
                               "min_box_size": 0.0, **config})
    await detector.start()
    return detector


@pytest.mark.parametrize(("family", "build", "label"), [
    ("nanodet", graphs.nanodet, "person"),
    ("nanodet_plus", graphs.nanodet_plus, "person"),
    ("yolov5", graphs.yolov5, "vehicle"),
    ("yolov8", graphs.yolov8, "vehicle"),
    ("yolox", graphs.yolox, "person"),
    ("ssd", graphs.ssd, "vehicle"),
    ("centernet", graphs.centernet, "vehicle"),
    ("centernet", graphs.centernet_heads, "vehicle"),
    ("movenet", graphs.movenet, "person"),
])
async def test_each_family_is_recognised_and_its_box_decoded(
    tmp_path: Path, family: str, build: Callable[[Path], Path], label: str
) -> None:
    # Given a model file laid out like a stock export of this family, family not configured
    detector = await started(build(tmp_path / f"{family}.onnx"))
    # When a frame is run through it
    detections = detector.detect(FRAME)
    # Then the family was recognised from the outputs and the one object comes back as the
    # HomeSec class, at the encoded place (frame fractions), once (NMS, low scores dropped)
    assert detector.status()["family"] == family
    assert [d.label for d in detections] == [label]
    assert detections[0].box == pytest.approx(EXPECTED, abs=0.02)
    assert detections[0].confidence >= 0.85


async def test_a_configured_family_that_does_not_fit_the_outputs_names_filter_family(
    tmp_path: Path,
) -> None:
    # Given a YOLOv8-shaped model configured as YOLOX
    detector = await started(graphs.yolov8(tmp_path / "v8.onnx"), family="yolox")
    # Then the filter is degraded and the error names the field to fix
    status = detector.status()
    assert status["status"] == "degraded"
    assert status["error"].startswith("filter.family:")
    assert "yolox" in status["error"]


async def test_per_class_minimum_confidence_and_minimum_box_size_drop_detections(
    tmp_path: Path,
) -> None:
    # Given a model that finds one person at 0.9
    path = graphs.nanodet(tmp_path / "n.onnx")
    # When person needs 0.95, or boxes must be at least 80 % of the frame
    strict = await started(path, class_min_confidence={"person": 0.95})
    tiny = await started(path, min_box_size=0.8)
    # Then neither reports it
    assert strict.detect(FRAME) == []
    assert tiny.detect(FRAME) == []
