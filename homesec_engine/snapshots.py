"""JPEG snapshots of clips, encoded with PyAV's mjpeg encoder (no image library needed)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

BOX_COLOUR = (255, 64, 32)


def draw_box(rgb: np.ndarray, box: tuple[float, float, float, float] | None,
             thickness: int = 2) -> np.ndarray:
    """A copy of `rgb` with the detection box (fractions x, y, w, h) outlined."""
    out = rgb.copy()
    if box is None:
        return out
    h, w = out.shape[:2]
    x0, y0 = int(box[0] * w), int(box[1] * h)
    x1, y1 = min(w - 1, int((box[0] + box[2]) * w)), min(h - 1, int((box[1] + box[3]) * h))
    t = thickness
    out[y0 : y0 + t, x0 : x1 + 1] = BOX_COLOUR
    out[max(0, y1 - t + 1) : y1 + 1, x0 : x1 + 1] = BOX_COLOUR
    out[y0 : y1 + 1, x0 : x0 + t] = BOX_COLOUR
    out[y0 : y1 + 1, max(0, x1 - t + 1) : x1 + 1] = BOX_COLOUR
    return out


def encode_jpeg(rgb: np.ndarray, quality: int = 5) -> bytes:
    """JPEG bytes of an RGB uint8 frame (`quality`: mjpeg qscale, 2 best .. 31 worst)."""
    height, width = rgb.shape[:2]
    even = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2])
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = even.shape[1], even.shape[0]
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 1)
    codec.options = {"qscale": str(quality)}
    codec.flags |= av.codec.context.Flags.qscale
    codec.global_quality = quality * 118  # FF_QP2LAMBDA: qscale -> lambda
    frame = av.VideoFrame.from_ndarray(even, format="rgb24").reformat(format="yuvj420p")
    frame.pts = 0
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return b"".join(bytes(p) for p in packets)
