"""Letterbox a frame to the model's input size and normalise it the way each family was trained.

Letterboxing keeps the aspect ratio (a person stays person-shaped) and pads the rest; the
`Letterbox` record maps boxes back to frame fractions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# NanoDet is trained on BGR frames with ImageNet statistics in 0..255 units.
_NANODET_MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
_NANODET_STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
_PAD = {"nanodet": 0, "nanodet_plus": 0, "yolox": 114, "yolov5": 114, "yolov8": 114, "ssd": 0,
        "centernet": 0, "movenet": 0}


@dataclass(frozen=True, slots=True)
class Letterbox:
    scale: float  # model pixels per frame pixel
    pad_x: int
    pad_y: int
    frame_w: int
    frame_h: int

    def to_fractions(self, boxes: np.ndarray) -> np.ndarray:
        """x1, y1, x2, y2 in model pixels -> x, y, w, h as fractions of the frame."""
        x1 = np.clip((boxes[:, 0] - self.pad_x) / self.scale, 0, self.frame_w)
        y1 = np.clip((boxes[:, 1] - self.pad_y) / self.scale, 0, self.frame_h)
        x2 = np.clip((boxes[:, 2] - self.pad_x) / self.scale, 0, self.frame_w)
        y2 = np.clip((boxes[:, 3] - self.pad_y) / self.scale, 0, self.frame_h)
        return np.stack([x1 / self.frame_w, y1 / self.frame_h,
                         (x2 - x1) / self.frame_w, (y2 - y1) / self.frame_h], axis=1)


def resize_bilinear(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """A bilinear resize in numpy (frames usually arrive at the right width already)."""
    src_h, src_w = rgb.shape[:2]
    if (src_w, src_h) == (width, height):
        return rgb
    step = min(src_w // width, src_h // height)
    if step >= 2:  # far smaller: every step-th pixel first (the bilinear taps would skip them)
        rgb = rgb[::step, ::step]
        src_h, src_w = rgb.shape[:2]
    ys = np.clip((np.arange(height) + 0.5) * src_h / height - 0.5, 0, src_h - 1)
    xs = np.clip((np.arange(width) + 0.5) * src_w / width - 0.5, 0, src_w - 1)
    y0, x0 = ys.astype(np.intp), xs.astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, src_h - 1), np.minimum(x0 + 1, src_w - 1)
    # Separable, in place, on rows of W*3 values: the rows first (whole-row copies), then the
    # columns with one flat `take` per side. The work follows the output's size, so a 1080p
    # frame scaled down to a 416-pixel model costs about what a 416-pixel frame does; 2-3x
    # faster than gathering pixels on the 3-D array (13.7 -> 6.2 ms for 640x360 -> 416x234,
    # 31.9 -> 11.1 ms for a 600-pixel crop, same picture within one grey level).
    flat = rgb.reshape(src_h, src_w * 3)
    top, bottom = flat[y0].astype(np.float32), flat[y1].astype(np.float32)
    bottom -= top
    bottom *= (ys - y0).astype(np.float32)[:, None]
    top += bottom
    channels = np.arange(3)
    left = np.take(top, (x0[:, None] * 3 + channels).ravel(), axis=1)
    right = np.take(top, (x1[:, None] * 3 + channels).ravel(), axis=1)
    right -= left
    right *= np.repeat((xs - x0).astype(np.float32), 3)[None, :]
    left += right
    left += 0.5
    out: np.ndarray = left.astype(np.uint8).reshape(height, width, 3)
    return out


def letterbox(rgb: np.ndarray, width: int, height: int, family: str
              ) -> tuple[np.ndarray, Letterbox]:
    """The frame scaled into width x height (aspect kept, centred, padded)."""
    frame_h, frame_w = rgb.shape[:2]
    scale = min(width / frame_w, height / frame_h)
    new_w, new_h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    canvas = np.full((height, width, 3), _PAD.get(family, 0), dtype=np.uint8)
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = resize_bilinear(rgb, new_w, new_h)
    return canvas, Letterbox(scale, pad_x, pad_y, frame_w, frame_h)


# The brightest part of a picture (its 99.5th percentile of brightness) below this: a dark
# scene, e.g. a camera at night (dim, often greyscale from infrared, noisy).
DARK_BELOW = 150
_DARK_TARGET = 220  # where the stretch puts the brightest part
_DARK_MAX_GAIN = 4.0  # beyond this the picture is mostly amplified noise


def brighten_dark(canvas: np.ndarray, box: Letterbox) -> np.ndarray:
    """A dark picture stretched to the brightness the model was trained on, after a 3x3 box
    blur so its sensor noise is not stretched with it; any other picture as it is.

    Measured on bench/detect.py's night clips: 11 of 16 subjects found instead of 9, with no
    new report on an empty scene (night noise included).
    """
    new_w = round(box.frame_w * box.scale)
    new_h = round(box.frame_h * box.scale)
    content = canvas[box.pad_y:box.pad_y + new_h, box.pad_x:box.pad_x + new_w]
    luma = content[::4, ::4].mean(axis=2)
    low, high = np.percentile(luma, (1, 99.5))
    if high >= DARK_BELOW or high - low < 8:  # bright enough, or a flat picture (nothing to see)
        return canvas
    gain = min(_DARK_MAX_GAIN, _DARK_TARGET / (high - low))
    h, w = content.shape[:2]
    padded = np.pad(content.astype(np.float32), ((1, 1), (1, 1), (0, 0)), mode="edge")
    blurred = sum(padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / 9
    out = canvas.copy()
    out[box.pad_y:box.pad_y + new_h, box.pad_x:box.pad_x + new_w] = np.clip(
        (blurred - low) * gain, 0, 255).astype(np.uint8)
    return out


def to_tensor(canvas: np.ndarray, family: str, nhwc: bool, dtype: str) -> np.ndarray:
    """The letterboxed RGB canvas as the batch-of-one input tensor the family expects."""
    if dtype in ("uint8", "int32"):  # e.g. TF OD API SSDs, MoveNet: normalised in the graph
        data: np.ndarray = canvas.astype(dtype)
    elif family in ("nanodet", "nanodet_plus"):
        data = (canvas[..., ::-1].astype(np.float32) - _NANODET_MEAN) / _NANODET_STD
    elif family in ("yolox",):  # YOLOX takes 0..255 BGR, unnormalised
        data = canvas[..., ::-1].astype(np.float32)
    elif family == "centernet":  # RGB 0..255, normalised inside the graph
        data = canvas.astype(np.float32)
    elif family == "ssd":
        data = canvas.astype(np.float32) / 127.5 - 1.0
    else:  # YOLOv5/v8: RGB scaled to 0..1
        data = canvas.astype(np.float32) / 255.0
    if not nhwc:
        data = data.transpose(2, 0, 1)
    tensor: np.ndarray = np.ascontiguousarray(data[None, ...])
    return tensor.astype(np.float16) if dtype == "float16" else tensor
