"""JPEG snapshots of clips, encoded with PyAV's mjpeg encoder (no image library needed).

A clip's snapshot is its best detection frame decoded again at the clip's full resolution
(the filter looks at small frames), with each detection of that frame outlined and labelled
with its class and confidence. Labels use a built-in 5x7 bitmap font.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from .filters.frames import decoded_frames
from .records import Detection

if TYPE_CHECKING:
    from .filters.base import FilterOutput

BOX_COLOUR = (255, 64, 32)
TEXT_COLOUR = (255, 255, 255)

# 5x7 glyphs: 7 rows of 5 columns per character ('#' = ink). Labels are drawn
# in capitals: the classes, digits and '%' are all a label ever needs.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "%": ("##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    " ": (".....", ".....", ".....", ".....", ".....", ".....", "....."),
    "_": (".....", ".....", ".....", ".....", ".....", ".....", "#####"),
}
_GLYPH_MASKS = {ch: np.array([[c == "#" for c in row] for row in rows])
                for ch, rows in _GLYPHS.items()}
_UNKNOWN_GLYPH = np.ones((7, 5), dtype=bool)


def draw_box(rgb: np.ndarray, box: tuple[float, float, float, float] | None,
             thickness: int = 2) -> np.ndarray:
    """A copy of `rgb` with the detection box (fractions x, y, w, h) outlined."""
    out = rgb.copy()
    if box is not None:
        _outline(out, box, thickness)
    return out


def _pixels(shape: tuple[int, ...], box: Sequence[float]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0 = max(0, int(box[0] * w)), max(0, int(box[1] * h))
    x1 = min(w - 1, int((box[0] + box[2]) * w))
    y1 = min(h - 1, int((box[1] + box[3]) * h))
    return x0, y0, max(x0, x1), max(y0, y1)


def _outline(out: np.ndarray, box: Sequence[float], t: int) -> None:
    x0, y0, x1, y1 = _pixels(out.shape, box)
    out[y0 : y0 + t, x0 : x1 + 1] = BOX_COLOUR
    out[max(0, y1 - t + 1) : y1 + 1, x0 : x1 + 1] = BOX_COLOUR
    out[y0 : y1 + 1, x0 : x0 + t] = BOX_COLOUR
    out[y0 : y1 + 1, max(0, x1 - t + 1) : x1 + 1] = BOX_COLOUR


def label_text(detection: Detection) -> str:
    return f"{detection.label} {round(detection.confidence * 100)}%".upper()


def draw_label(out: np.ndarray, text: str, x: int, y: int, scale: int) -> None:
    """`text` in white on the box colour, its top-left corner at (x, y), clipped to the frame."""
    pad = scale
    width = len(text) * 6 * scale - scale + 2 * pad
    height = 7 * scale + 2 * pad
    h, w = out.shape[:2]
    x = max(0, min(x, w - width))
    y = max(0, min(y, h - height))
    out[y : y + height, x : x + width] = BOX_COLOUR
    for index, char in enumerate(text):
        glyph = _GLYPH_MASKS.get(char, _UNKNOWN_GLYPH)
        ink = np.kron(glyph, np.ones((scale, scale), dtype=bool))
        gx, gy = x + pad + index * 6 * scale, y + pad
        region = out[gy : gy + ink.shape[0], gx : gx + ink.shape[1]]
        region[ink[: region.shape[0], : region.shape[1]]] = TEXT_COLOUR


def annotate(rgb: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    """A copy of `rgb` with every detection outlined and labelled (class, confidence)."""
    out = rgb.copy()
    h = out.shape[0]
    thickness = max(2, h // 240)
    scale = max(1, h // 200)
    for det in detections:
        if det.box is None:
            continue
        _outline(out, det.box, thickness)
    for det in detections:  # labels last: a neighbour's outline never cuts through one
        if det.box is None:
            continue
        x0, y0, _, _ = _pixels(out.shape, det.box)
        label_h = 7 * scale + 2 * scale
        draw_label(out, label_text(det), x0, y0 - label_h if y0 >= label_h else y0, scale)
    return out


def full_resolution_frame(path: Path, time_s: float) -> np.ndarray | None:
    """The clip's frame at `time_s` from its first frame, decoded at full size (blocking)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None \
            and stream.time_base is not None else 0.0
        target = start + time_s
        if time_s > 0 and stream.time_base is not None:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        last = None
        for frame in decoded_frames(container, stream):
            last = frame
            if frame.time is None or frame.time + 1e-3 >= target:
                break
        return None if last is None else last.to_ndarray(format="rgb24")


def render_snapshot(path: Path, filtered: FilterOutput, detections: Sequence[Detection]
                    ) -> bytes:
    """The snapshot JPEG of a filtered clip: the best frame at full size, annotated.

    `detections`: those of the best frame to draw. Falls back to the filter's small frame
    when the clip cannot be decoded again (it is gone, or damaged at that spot).
    """
    frame: np.ndarray | None = None
    if filtered.best_time_s is not None:
        try:
            frame = full_resolution_frame(path, filtered.best_time_s)
        except (av.error.FFmpegError, OSError):
            frame = None
    if frame is None:
        frame = filtered.best_frame
    if frame is None:
        raise ValueError("no frame to take a snapshot of")
    return encode_jpeg(annotate(frame, detections))


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
