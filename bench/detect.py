"""Trained-detector benchmark: recall on real labelled footage, false alerts on empty footage,
CPU per frame.

Data (offline, from registry packages; see tests/realdata.py): scikit-image's bundled photos and
Debian's opencv-doc samples (real photos, the pedestrian video vtest.avi, a tree in wind).

* Positive clips (3 s, 10 fps, H.264): every labelled photo as a still camera with sensor noise,
  under a lighting ramp and on a shaking camera; plus consecutive 4-second pieces of vtest.avi.
  Recall per class = clips in which that class is reported / clips showing it.
* Empty clips: photos with no trigger class (rooms, tables, textures, fruit, sky) in the same
  four treatments (still, strong noise, lighting ramp, shake), night-time sensor noise,
  synthetic textures and pieces of the tree-in-wind video. A false alert = a clip in which a
  trigger class is reported; given per 100 empty clips.
* CPU per frame: process time of one `detect()` (letterbox, inference, decoding, NMS) on
  vtest.avi frames decoded 416 pixels wide, as the pipeline decodes them for a 416 model,
  with one inference thread and with the default (one per core), p50/p99 and the wall-clock
  median; and on 640-wide frames, where the letterbox also resizes (numpy bilinear).

Every clip goes through `DetectorFilter.run` with the shipped defaults (min_confidence 0.5,
min_hits 2, sample_fps 2), exactly as the pipeline runs it. Prints figures and a Markdown
table; asserts nothing.

    python bench/detect.py [--model PATH] [--frames 60] [--cpu-only]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.filters import DetectorFilter  # noqa: E402
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal", "package"]
FPS = 10
CLIP_FRAMES = 30


def fit(image: np.ndarray, width: int = 640) -> np.ndarray:
    """Camera-sized: photos wider than `width` are scaled down (bilinear)."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    h, w = image.shape[:2]
    if w <= width:
        return image
    return resize_bilinear(image, width, round(h * width / w) // 2 * 2)


def treatments(image: np.ndarray, seed: int) -> dict[str, list[np.ndarray]]:
    return {
        "still": realdata.still_clip(image, CLIP_FRAMES, noise=3, seed=seed),
        "noisy": realdata.still_clip(image, CLIP_FRAMES, noise=12, seed=seed),
        "ramp": realdata.lighting_ramp(image, CLIP_FRAMES),
        "shake": realdata.camera_shake(image, CLIP_FRAMES, seed=seed),
    }


def textures(count: int) -> list[list[np.ndarray]]:
    """Synthetic empty scenes: smooth noise fields, stripes, checkers, with sensor noise."""
    rng = np.random.default_rng(11)
    out = []
    for i in range(count):
        small = rng.integers(0, 255, (6 + i % 5, 8 + i % 7, 3)).astype(np.uint8)
        from homesec_engine.filters.detector.preprocess import resize_bilinear

        field = resize_bilinear(small, 640, 360)
        if i % 3 == 1:
            field[::16 + i] = 30
        elif i % 3 == 2:
            field[(np.indices((360, 640)).sum(axis=0) // 40) % 2 == 0] //= 2
        out.append(realdata.still_clip(field, CLIP_FRAMES, noise=4, seed=i))
    return out


def video_pieces(path: Path, frames_per_piece: int, limit: int) -> list[list[np.ndarray]]:
    frames = list(realdata.video_frames(path))
    return [frames[i:i + frames_per_piece]
            for i in range(0, len(frames) - frames_per_piece + 1, frames_per_piece)][:limit]


async def judge(detector: DetectorFilter, frames: list[np.ndarray], work: Path) -> set[str]:
    clip = realdata.write_clip(work / "clip.mp4", frames, FPS)
    out = await detector.run(clip)
    return set(out.classes) & set(TRIGGERS)


def cpu_per_frame(model: str | None, threads: int, frames: list[np.ndarray]
                  ) -> tuple[float, float, float]:
    detector = DetectorFilter({"model_path": model, "threads": threads})
    asyncio.run(detector.start())
    detector.detect(frames[0])  # warm-up (first run allocates)
    samples, walls = [], []
    for frame in frames:
        start, wall = time.process_time(), time.perf_counter()
        detector.detect(frame)
        samples.append((time.process_time() - start) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    samples.sort()
    return (statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            statistics.median(walls))


async def accuracy(model: str | None, work: Path) -> dict[str, Any]:
    detector = DetectorFilter({"model_path": model, "trigger_classes": TRIGGERS,
                               "min_confidence": 0.5, "min_hits": 2, "min_box_size": 0.02,
                               "sample_fps": 2.0})
    await detector.start()
    samples = realdata.opencv_samples()
    positives: list[tuple[str, str, list[np.ndarray]]] = []
    negatives: list[tuple[str, list[np.ndarray]]] = []
    photos = [(n, c, realdata.skimage_photo(n)) for n, c in realdata.SKIMAGE_PHOTOS.items()]
    photos += [(n, c, realdata.opencv_photo(n, samples)) for n, c in
               realdata.OPENCV_PHOTOS.items()]
    for seed, (name, cls, image) in enumerate(photos):
        for kind, frames in treatments(fit(image), seed).items():
            if cls:
                positives.append((f"{name}/{kind}", cls, frames))
            else:
                negatives.append((f"{name}/{kind}", frames))
    for i, piece in enumerate(video_pieces(samples / "vtest.avi", 40, 19)):
        positives.append((f"vtest.avi#{i}", "person", piece))
    for i in range(10):
        negatives.append((f"night#{i}", realdata.noise_frames(640, 360, CLIP_FRAMES, seed=i)))
    for i, frames in enumerate(textures(21)):
        negatives.append((f"texture#{i}", frames))
    for i, piece in enumerate(video_pieces(samples / "tree.avi", 40, 11)):
        negatives.append((f"tree.avi#{i}", piece))

    shown: Counter[str] = Counter()
    found: Counter[str] = Counter()
    misses = []
    for name, cls, frames in positives:
        shown[cls] += 1
        if cls in await judge(detector, frames, work):
            found[cls] += 1
        else:
            misses.append(name)
    false_alerts = []
    for name, frames in negatives:
        got = await judge(detector, frames, work)
        if got:
            false_alerts.append(f"{name}: {sorted(got)}")
    return {"recall": {c: (found[c], shown[c]) for c in sorted(shown)}, "misses": misses,
            "empty": len(negatives), "false_alerts": false_alerts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="ONNX model (default: the shipped NanoDet-m 416)")
    parser.add_argument("--frames", type=int, default=60, help="frames timed per setting")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU figures")
    args = parser.parse_args()
    video = realdata.opencv_samples() / "vtest.avi"
    frames = list(realdata.video_frames(video, every=13, width=416))[:args.frames]
    wide = list(realdata.video_frames(video, every=13, width=640))[:args.frames]
    one = cpu_per_frame(args.model, 1, frames)
    default = cpu_per_frame(args.model, 0, frames)
    one_wide = cpu_per_frame(args.model, 1, wide)
    print(f"CPU ms/frame, 416x312 frames: 1 thread p50 {one[0]:.1f} p99 {one[1]:.1f} "
          f"(wall p50 {one[2]:.1f}); default threads p50 {default[0]:.1f} p99 {default[1]:.1f} "
          f"(wall p50 {default[2]:.1f}); 640x480 frames, 1 thread p50 {one_wide[0]:.1f}")
    if args.cpu_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(accuracy(args.model, Path(tmp)))
    per100 = 100 * len(result["false_alerts"]) / result["empty"]
    print(f"model: {args.model or 'shipped nanodet-m-416.onnx'}")
    for cls, (hit, total) in result["recall"].items():
        print(f"recall {cls}: {hit}/{total} = {hit / total:.2f}")
    print(f"missed: {', '.join(result['misses']) or '-'}")
    print(f"false trigger-class alerts: {len(result['false_alerts'])} in {result['empty']} "
          f"empty clips = {per100:.1f} per 100")
    for line in result["false_alerts"]:
        print(f"  {line}")
    print()
    print("| figure | value |")
    print("|---|---|")
    for cls, (hit, total) in result["recall"].items():
        print(f"| recall {cls} | {hit / total:.2f} ({hit}/{total} clips) |")
    print(f"| false trigger-class alerts per 100 empty clips | {per100:.1f} "
          f"({len(result['false_alerts'])}/{result['empty']}) |")
    print(f"| CPU ms/frame, 1 thread (p50 / p99; wall p50) | {one[0]:.1f} / {one[1]:.1f}; "
          f"{one[2]:.1f} |")
    print(f"| CPU ms/frame, default threads (p50 / p99; wall p50) | {default[0]:.1f} / "
          f"{default[1]:.1f}; {default[2]:.1f} |")
    print(f"| CPU ms/frame, 640x480 frames, 1 thread (p50 / p99) | {one_wide[0]:.1f} / "
          f"{one_wide[1]:.1f} |")


if __name__ == "__main__":
    main()
