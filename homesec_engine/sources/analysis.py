"""The cheap analysis decode: decoder settings and the small grey frame fed to motion detection.

Recordings keep the original packets, so the decode that only feeds motion detection may trade
picture quality for speed: it skips the in-loop deblocking filter and, where the decoder supports
it, chroma. (Measured with bench/motion.py; ``flags2=fast`` and ``skip_idct`` gave nothing for
H.264.) The grey analysis frame is taken straight from the decoded luma plane
(no colour conversion, no scaler).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .motion import downscale_gray

# Options applied when the decoder opens (FFmpeg AVCodecContext options).
ANALYSIS_DECODER_OPTIONS = {
    "skip_loop_filter": "all",  # deblocking is ~20 % of H.264 decode time (measured)
    "flags": "+gray",  # luma only where FFmpeg supports it: chroma is never looked at
}

# Planar YUV layouts whose first plane is full-resolution luma.
_LUMA_FIRST = {
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21",
    "yuv420p10le", "gray",
}


def configure_analysis_decoder(codec_context: Any, threads: int = 1) -> None:
    """Set up a not-yet-opened video decoder for the analysis decode."""
    codec_context.options = {**dict(codec_context.options or {}), **ANALYSIS_DECODER_OPTIONS}
    codec_context.thread_count = max(1, int(threads))
    # Slice threads add no frame latency (frame threads would delay every frame).
    codec_context.thread_type = "SLICE"


def analysis_gray(frame: Any, analysis_width: int) -> np.ndarray:
    """A small uint8 grey image of a decoded ``av.VideoFrame`` for motion detection."""
    fmt = frame.format.name
    if fmt in _LUMA_FIRST and not fmt.endswith("10le"):
        plane = frame.planes[0]
        # The plane buffer is padded to line_size; view it without copying, then crop.
        buf = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        return downscale_gray(buf[:, : plane.width], analysis_width)
    # Unusual pixel formats: let the scaler produce a small grey frame.
    height = max(1, round(frame.height * analysis_width / max(1, frame.width)))
    return cast(np.ndarray, frame.to_ndarray(width=analysis_width, height=height, format="gray"))
