"""Scaling a picture down for the model: each model pixel is the bilinear blend of the picture
pixels under it, whatever the picture's memory layout (a crop of a frame, a subsampled view)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skimage", reason="scikit-image's bundled photos are the test pictures")

from homesec_engine.filters.detector.preprocess import resize_bilinear  # noqa: E402
from tests import realdata  # noqa: E402


def reference(rgb: np.ndarray, width: int, height: int, x: int, y: int) -> np.ndarray:
    """The bilinear value of output pixel (x, y), computed directly (pixel centres aligned)."""
    src_h, src_w = rgb.shape[:2]
    sy = min(max((y + 0.5) * src_h / height - 0.5, 0), src_h - 1)
    sx = min(max((x + 0.5) * src_w / width - 0.5, 0), src_w - 1)
    y0, x0 = int(sy), int(sx)
    y1, x1 = min(y0 + 1, src_h - 1), min(x0 + 1, src_w - 1)
    fy, fx = sy - y0, sx - x0
    p = rgb.astype(np.float64)
    top = p[y0, x0] * (1 - fx) + p[y0, x1] * fx
    bottom = p[y1, x0] * (1 - fx) + p[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def test_a_camera_picture_scaled_for_the_model_keeps_every_pixel_where_it_was() -> None:
    # Given a real photo as a 640x360 camera picture, and a crop of it (a view into the frame,
    # as a region is)
    frame = realdata.fit_width(realdata.skimage_photo("astronaut.png"), 640)[:360]
    crop = frame[40:340, 100:560]
    for picture, width, height in ((frame, 416, 234), (crop, 416, 271)):
        # When it is scaled to the model's size
        out = resize_bilinear(picture, width, height)
        # Then it has that size, and sampled pixels are the bilinear blend of the picture's
        assert out.shape == (height, width, 3) and out.dtype == np.uint8
        rng = np.random.default_rng(3)
        for x, y in zip(rng.integers(0, width, 40), rng.integers(0, height, 40), strict=True):
            assert np.abs(out[y, x] - reference(picture, width, height, x, y)).max() <= 1.0
        # And a view gives what a copy of it gives
        assert np.array_equal(out, resize_bilinear(np.ascontiguousarray(picture), width, height))
