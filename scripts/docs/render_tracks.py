"""Render docs/tracks.png: the tracks of one real clip, as the engine sees them.

Debian's pedestrian video (a plaza: a van and a car parked at the top right, people walking),
15 s looked at twice a second by the shipped detector and followed by the tracker: each moving
track's path and last box in its colour, each stationary one boxed in grey. Run from the
repository root: `.venvs/newest/bin/python scripts/docs/render_tracks.py`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.tracking import Tracker, TrackerSettings  # noqa: E402
from tests import realdata  # noqa: E402

COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]


def main(out: Path = REPO / "docs" / "tracks.png", seconds: float = 15.0) -> None:
    detector = DetectorFilter({"trigger_classes": ["person", "vehicle"], "min_hits": 2,
                               "min_confidence": 0.5, "min_box_size": 0.02})
    asyncio.run(detector.start())
    tracker = Tracker(TrackerSettings.from_config({}, min_hits=2))
    seen = {}
    frame = None
    now = 0.0
    video = realdata.opencv_samples() / "vtest.avi"
    looks = range(int(seconds * 2))  # 2 looks a second
    for i, frame in zip(looks, realdata.video_frames(video, every=5), strict=False):
        now = i / 2.0
        update = tracker.update(detector.detect(frame, i), now)
        for track in update.tracks:
            seen[track.id] = track
    assert frame is not None
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for n, track in enumerate(sorted(seen.values(), key=lambda t: t.id)):
        x, y, bw, bh = track.box
        box = [x * w, y * h, (x + bw) * w, (y + bh) * h]
        if track.was_active:
            colour = COLOURS[n % len(COLOURS)]
            points = [(px * w, py * h) for _, px, py in track.path]
            if len(points) > 1:
                draw.line(points, fill=colour, width=3)
            if track.last_seen == now:  # in view in the picture: its box too
                draw.rectangle(box, outline=colour, width=2)
                draw.text((box[0], box[1] - 11), f"#{track.id} {track.label}", fill=colour)
        else:
            draw.rectangle(box, outline=(255, 255, 255), width=2)
            draw.text((min(box[0], w - 130), box[3] + 2 + 12 * (n % 2)),
                      f"#{track.id} {track.label}: stationary", fill=(255, 255, 255))
    image.save(out)
    moved = sum(t.was_active for t in seen.values())
    print(f"{out}: {len(seen)} tracks, {moved} moved, {len(seen) - moved} stationary")


if __name__ == "__main__":
    main()
