"""Sampled frames of a clip, decoded with PyAV (blocking: call from a worker thread).

Every frame has to be decoded anyway (inter-frame coding), but only the sampled ones are
converted to RGB and scaled, which is where the cost of a small analysis frame goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

ANALYSIS_WIDTH = 320  # detectors look at small frames; snapshots use the same frames


@dataclass(slots=True)
class SampledFrame:
    index: int  # position among the sampled frames
    time_s: float  # seconds from the clip start
    rgb: np.ndarray  # HxWx3 uint8


def _scaled_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    if width <= target_width:
        return width, height
    scaled_h = max(2, round(height * target_width / width))
    return target_width, scaled_h - scaled_h % 2


def decoded_frames(container: Any, stream: Any) -> Iterator[Any]:
    """The stream's frames, decoded packet by packet: a damaged packet costs its own frame
    (and those predicted from it), never the rest of the clip."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            continue
        yield from frames


def sample_frames(path: Path, sample_fps: float, width: int = ANALYSIS_WIDTH
                  ) -> Iterator[SampledFrame]:
    """Yield RGB frames `1 / sample_fps` seconds apart (the first frame always included).

    A generator: a caller that stops early (early exit) stops decoding too.
    """
    step = 1.0 / max(1e-3, sample_fps)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        out_w, out_h = _scaled_size(stream.codec_context.width or width,
                                    stream.codec_context.height or width, width)
        first_t: float | None = None
        next_t = 0.0
        index = 0
        for frame in decoded_frames(container, stream):
            t_abs = float(frame.time) if frame.time is not None else index * step
            first_t = t_abs if first_t is None else first_t
            t = t_abs - first_t
            if t + 1e-6 < next_t:
                continue
            rgb = frame.to_ndarray(width=out_w, height=out_h, format="rgb24")
            yield SampledFrame(index, t, rgb)
            index += 1
            next_t += step
            while next_t <= t:  # a gap in the stream: do not burst-sample after it
                next_t += step


def pick_frames(path: Path, count: int, width: int = 512) -> list[np.ndarray]:
    """`count` RGB frames spread evenly over the clip (for the analyzer)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
    fps = count / duration if duration > 0 else 1.0
    frames = [f.rgb for f in sample_frames(path, max(fps, 0.1), width)]
    if len(frames) <= count:
        return frames
    positions = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in positions]
