"""Trained-detector benchmark: per-class recall, wrong classes and false alerts on real, labelled
footage made the ways a home camera sees things; CPU per analysed frame.

Data (offline, from registry packages; tests/realdata.py): scikit-image's bundled photos, Debian's
opencv-doc samples (photos, the pedestrian video vtest.avi, a tree in wind) and photos bundled in
PyPI wheels (ultralytics, imgaug, matplotlib, scikit-learn). Every picture is labelled in
`realdata.CATALOGUE` with the HomeSec classes it shows, by looking at it.

Each picture becomes 3-second clips (10 fps, H.264) in five treatments:
  still   fixed camera, sensor noise            pan     slow pan and zoom (PTZ)
  night   greyscale, dark, heavy noise          small   150 px tall, walking across a 1080p scene
  hidden  the lower 40 % behind a brick wall
plus real video: consecutive 4-second pieces of vtest.avi (people, a parked van and car);
empty footage: the empty
pictures in the same treatments (in `small`, an empty patch moves: motion without a subject),
night-time noise, synthetic textures and the tree-in-wind video.

* recall per class = clips in which the class is reported / clips showing it;
* wrong classes = reports of a trigger class the clip does not show (a positive clip's extra
  class, e.g. a person reported as an animal);
* false alerts = empty clips in which any trigger class is reported.
* CPU per analysed frame (process time, so others' load distorts it little): one detect_frame
  on vtest.avi frames decoded 416 wide (today's figure) and on 1080p frames of the `small`
  clips, one inference thread, for every configuration in the same run.

Every clip goes through `DetectorFilter.run` as the pipeline runs it. Configurations compared:
the shipped CenterNet with and without regions, at its trained 512 and at NanoDet's
thresholds; the previous default NanoDet-m with its thresholds, on a canvas fitted to the
frame and on the square canvas of the release before (when scripts/models/convert-nanodet.sh
has put it in the cache). `--model PATH` adds models.
Prints figures and Markdown tables; asserts nothing.

    python bench/detect.py [--model PATH ...] [--frames 40] [--cpu-only] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.filters.frames import SampledFrame  # noqa: E402
from homesec_engine.schema.validate import model_defaults  # noqa: E402
from tests import realdata  # noqa: E402

TRIGGERS = ["person", "vehicle", "animal"]
FPS = 10
CLIP_FRAMES = 20  # 2 s: 4 sampled frames at sample_fps 2
TREATMENTS = ("still", "pan", "night", "small", "hidden")
CLIPS_VERSION = "1"  # raise when make_clips changes (the cache is keyed by it and realdata.py)
# The shipped defaults the pipeline runs with (the schema owns them), per configuration
# overridable; the bench judges the three trigger classes a COCO model reports.
DEFAULTS: dict[str, Any] = {**model_defaults("FilterConfig"), "trigger_classes": TRIGGERS}
# Bench-only setting: the model is fed the whole square canvas whatever the frame's shape.
SQUARE = "square canvas"
# The detector shipped before CenterNet (scripts/models/convert-nanodet.sh writes it into the
# cache) and the thresholds it was calibrated with.
NANODET = realdata.CACHE / "models" / "nanodet-m-416.onnx"
NANODET_THRESHOLDS: dict[str, Any] = {"min_confidence": 0.5,
                                      "class_min_confidence": {"animal": 0.45}}
# On an empty scene a class of these is a false alert (a phone notification); any other is a
# false detection (recorded for review, not notified): the policy's default tiers.
ALERT_CLASSES = frozenset(model_defaults("AlertPolicy")["alert_classes"])


@dataclass(slots=True)
class Clip:
    name: str
    treatment: str
    classes: frozenset[str]
    path: Path


def fit(image: np.ndarray, width: int = 640) -> np.ndarray:
    """Camera-sized: photos wider than `width` are scaled down (bilinear)."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    h, w = image.shape[:2]
    if w <= width:
        return image
    return resize_bilinear(image, width, round(h * width / w) // 2 * 2)


def treat(kind: str, image: np.ndarray, seed: int, backdrop: np.ndarray, wall: np.ndarray
          ) -> list[np.ndarray]:
    if kind == "still":
        return realdata.still_clip(fit(image), CLIP_FRAMES, noise=3, seed=seed)
    if kind == "pan":
        return realdata.slow_pan(image, CLIP_FRAMES, seed=seed)
    if kind == "night":
        return realdata.night(fit(image), CLIP_FRAMES, seed=seed)
    if kind == "small":
        return realdata.small_in_scene(image, backdrop, CLIP_FRAMES, seed=seed)
    return realdata.partly_hidden(fit(image), wall, CLIP_FRAMES, seed=seed)


def textures(count: int) -> list[list[np.ndarray]]:
    """Synthetic empty scenes: smooth noise fields, stripes, checkers, with sensor noise."""
    from homesec_engine.filters.detector.preprocess import resize_bilinear

    rng = np.random.default_rng(11)
    out = []
    for i in range(count):
        small = rng.integers(0, 255, (6 + i % 5, 8 + i % 7, 3)).astype(np.uint8)
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


def cached_clips(quick: bool) -> list[Clip]:
    """The benchmark's clips, made once into the cache (they depend only on this file's
    treatments and the fetched data) and judged by every configuration of every run."""
    import hashlib
    import json

    digest = hashlib.sha256(CLIPS_VERSION.encode() + Path(realdata.__file__).read_bytes())
    work = realdata.CACHE / "bench-detect" / f"{digest.hexdigest()[:12]}{'-quick' if quick else ''}"
    manifest = work / "clips.json"
    if manifest.is_file():
        return [Clip(c["name"], c["treatment"], frozenset(c["classes"]), work / c["file"])
                for c in json.loads(manifest.read_text())]
    work.mkdir(parents=True, exist_ok=True)
    clips = make_clips(work, quick)
    manifest.write_text(json.dumps([{"name": c.name, "treatment": c.treatment,
                                     "classes": sorted(c.classes), "file": c.path.name}
                                    for c in clips]))
    return clips


def make_clips(work: Path, quick: bool) -> list[Clip]:
    """Every labelled clip of the benchmark, written once and judged by every configuration."""
    samples = realdata.opencv_samples()
    backdrops = [realdata.photo(*b) for b in realdata.BACKDROPS]
    wall = realdata.skimage_photo("brick.png")
    clips: list[Clip] = []

    def add(name: str, kind: str, classes: frozenset[str], frames: list[np.ndarray]) -> None:
        path = realdata.write_clip(work / f"{len(clips)}.mp4", frames, FPS)
        clips.append(Clip(name, kind, classes, path))

    catalogue = list(realdata.CATALOGUE.items())
    for seed, ((source, name), classes) in enumerate(catalogue):
        image = realdata.photo(source, name)
        for kind in TREATMENTS[:2] if quick else TREATMENTS:
            add(f"{name}/{kind}", kind, classes,
                treat(kind, image, seed, backdrops[seed % len(backdrops)], wall))
    for i, piece in enumerate(video_pieces(samples / "vtest.avi", 40, 6 if quick else 19)):
        # The plaza: people walking, a van and a car parked at the top right all along.
        add(f"vtest.avi#{i}", "video", frozenset({"person", "vehicle"}), piece)
    for i in range(3 if quick else 10):
        add(f"night-noise#{i}", "night", frozenset(),
            realdata.noise_frames(640, 360, CLIP_FRAMES, seed=i))
    for i, frames in enumerate(textures(6 if quick else 21)):
        add(f"texture#{i}", "still", frozenset(), frames)
    for i, piece in enumerate(video_pieces(samples / "tree.avi", 40, 3 if quick else 11)):
        add(f"tree.avi#{i}", "video", frozenset(), piece)
    return clips


def never(_detection: object) -> bool:
    return False


async def started(config: dict[str, Any]) -> DetectorFilter:
    """A started detector of the shipped defaults with `config` over them. SQUARE (bench only)
    feeds the model the whole square canvas, as releases before the fitted canvas did."""
    settings = {**DEFAULTS, **config}
    square = settings.pop(SQUARE, False)
    detector = DetectorFilter(settings)
    await detector.start()
    if square and detector.model is not None:
        detector.model = dataclasses.replace(detector.model, flexible=False)
    return detector


async def judge(config: dict[str, Any], clips: list[Clip]) -> dict[str, Any]:
    detector = await started(config)
    shown: Counter[str] = Counter()
    found: Counter[str] = Counter()
    by_treatment: Counter[tuple[str, str]] = Counter()
    misses: list[str] = []
    wrong: list[str] = []
    false_alerts: list[str] = []
    false_detections: list[str] = []
    empty = 0
    for clip in clips:
        # The whole clip (no early exit), so every class it shows and every wrong one counts.
        got = set((await detector.run(clip.path, never)).classes) & set(TRIGGERS)
        if not clip.classes:
            empty += 1
            if got & ALERT_CLASSES:
                false_alerts.append(f"{clip.name}: {sorted(got)}")
            elif got:
                false_detections.append(f"{clip.name}: {sorted(got)}")
            continue
        for cls in clip.classes:
            shown[cls] += 1
            by_treatment[(clip.treatment, "shown")] += 1
            if cls in got:
                found[cls] += 1
                by_treatment[(clip.treatment, "found")] += 1
            else:
                misses.append(f"{clip.name} ({cls})")
        if got - clip.classes:
            wrong.append(f"{clip.name}: {sorted(got - clip.classes)}")
    return {"recall": {c: (found[c], shown[c]) for c in sorted(shown)}, "misses": misses,
            "wrong": wrong, "empty": empty, "false_alerts": false_alerts,
            "false_detections": false_detections, "by_treatment": by_treatment}


async def frame_scores(config: dict[str, Any], clips: list[Clip]
                       ) -> list[list[list[tuple[str, float]]]]:
    """Per clip, per sampled frame: (class, score) of every candidate at or above 0.15."""
    detector = await started({**config, "min_confidence": 0.15, "class_min_confidence": {},
                              "min_hits": 1})
    out = []
    for clip in clips:
        frames: list[list[tuple[str, float]]] = []
        original = detector.detect_frame

        def record(frame: SampledFrame, original: Any = original,
                   frames: list[list[tuple[str, float]]] = frames) -> list[Any]:
            found = original(frame)
            frames.append([(d.label, d.confidence) for d in found])
            return found

        detector.detect_frame = record  # type: ignore[method-assign]
        await detector.run(clip.path, never)
        detector.detect_frame = original  # type: ignore[method-assign]
        out.append(frames)
    return out


def reported(frames: list[list[tuple[str, float]]], cls: str, threshold: float,
             min_hits: int) -> bool:
    """Whether `cls` is confirmed: seen at `threshold` in `min_hits` sampled frames in a row."""
    streak = 0
    for found in frames:
        streak = streak + 1 if any(c == cls and s >= threshold for c, s in found) else 0
        if streak >= min(min_hits, len(frames)):
            return True
    return False


def calibrate(clips: list[Clip], scores: list[list[list[tuple[str, float]]]]) -> None:
    """Per class: recall, wrong-class and empty-scene reports for each threshold and min_hits."""
    for cls in TRIGGERS:
        print(f"\n{cls}: threshold min_hits -> recall, wrong-class clips, false alerts (empty)")
        for min_hits in (1, 2, 3):
            for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55):
                hits = sum(reported(f, cls, threshold, min_hits)
                           for c, f in zip(clips, scores, strict=True) if cls in c.classes)
                shown = sum(1 for c in clips if cls in c.classes)
                wrong = sum(reported(f, cls, threshold, min_hits)
                            for c, f in zip(clips, scores, strict=True)
                            if c.classes and cls not in c.classes)
                false = sum(reported(f, cls, threshold, min_hits)
                            for c, f in zip(clips, scores, strict=True) if not c.classes)
                print(f"  {threshold:.2f} {min_hits} -> {hits}/{shown} = {hits / shown:.2f}, "
                      f"wrong {wrong}, false {false}")


def cpu_per_frame(config: dict[str, Any], frames: list[np.ndarray]) -> tuple[float, float]:
    """p50 / p99 process ms of one detect_frame (a stream of consecutive sampled frames)."""
    detector = asyncio.run(started({**config, "threads": 1}))
    detector.detect_frame(SampledFrame(0, 0.0, frames[0]))  # warm-up (first run allocates)
    samples = []
    for i, frame in enumerate(frames):
        start = time.process_time()
        detector.detect_frame(SampledFrame(i, i / 2, frame))
        samples.append((time.process_time() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def configurations(models: list[str]) -> dict[str, dict[str, Any]]:
    configs: dict[str, dict[str, Any]] = {
        "centernet-mbv3 416 + regions (default)": {},
        "centernet-mbv3 416, whole frame": {"region_width": 0},
        "centernet-mbv3 at its trained 512 + regions": {"input_size": [512, 512]},
        "centernet-mbv3 416 + regions, nanodet's thresholds": NANODET_THRESHOLDS,
    }
    if NANODET.is_file():
        configs["nanodet-m 416 + regions, fitted canvas (previous default)"] = {
            "model_path": str(NANODET), **NANODET_THRESHOLDS}
        configs["nanodet-m 416 + regions, square canvas (release before)"] = {
            "model_path": str(NANODET), **NANODET_THRESHOLDS, SQUARE: True}
    else:
        print(f"(no {NANODET}: scripts/models/convert-nanodet.sh makes it, for the rows of "
              "the previous default)")
    for spec in models:  # PATH or PATH@WxH (a model with a dynamic input size)
        model, _, size = spec.partition("@")
        extra = {"input_size": [int(v) for v in size.split("x")]} if size else {}
        name = f"{Path(model).stem} {size}".rstrip()
        configs[f"{name}, whole frame"] = {"model_path": model, "region_width": 0, **extra}
        configs[f"{name} + regions"] = {"model_path": model, **extra}
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", default=[],
                        help="another ONNX model: PATH, or PATH@WxH for a dynamic input size")
    parser.add_argument("--frames", type=int, default=40, help="frames timed per setting")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU figures")
    parser.add_argument("--no-cpu", action="store_true", help="no CPU figures")
    parser.add_argument("--only", help="only configurations whose name contains this")
    parser.add_argument("--calibrate", action="store_true",
                        help="per-class threshold and min_hits tables instead of the figures")
    parser.add_argument("--quick", action="store_true", help="two treatments, fewer pieces")
    args = parser.parse_args()
    configs = {name: c for name, c in configurations(args.model).items()
               if not args.only or args.only in name}
    video = realdata.opencv_samples() / "vtest.avi"
    narrow = list(realdata.video_frames(video, every=13, width=416))[:args.frames]
    wide = realdata.small_in_scene(realdata.photo("pypi", "ultralytics/zidane.jpg"),
                                   realdata.photo(*realdata.BACKDROPS[0]), args.frames * 5)[::5]
    cpu = {name: ((0.0, 0.0), (0.0, 0.0)) if args.no_cpu else
           (cpu_per_frame(c, narrow), cpu_per_frame(c, wide)) for name, c in configs.items()}
    for name, (n, w) in cpu.items():
        print(f"CPU ms per analysed frame, 1 thread, {name}: 416x312 p50 {n[0]:.1f} p99 "
              f"{n[1]:.1f}; 1920x1080 p50 {w[0]:.1f} p99 {w[1]:.1f}")
    if args.cpu_only:
        return
    results = {}
    clips = cached_clips(args.quick)
    print(f"{len(clips)} clips, {sum(1 for c in clips if not c.classes)} of them empty",
          flush=True)
    for name, config in configs.items():
        if args.calibrate:
            print(f"\n== {name}: calibration")
            calibrate(clips, asyncio.run(frame_scores(config, clips)))
            continue
        results[name] = result = asyncio.run(judge(config, clips))
        report(name, result)
    if results:
        table(results, cpu)


def report(name: str, result: dict[str, Any]) -> None:
    print(f"\n== {name}", flush=True)
    for cls, (hit, total) in result["recall"].items():
        print(f"recall {cls}: {hit}/{total} = {hit / total:.2f}")
    bt = result["by_treatment"]
    print("recall by treatment: " + ", ".join(
        f"{t} {bt[(t, 'found')]}/{bt[(t, 'shown')]}" for t in (*TREATMENTS, "video")
        if bt[(t, "shown")]))
    print(f"missed: {', '.join(result['misses']) or '-'}")
    print(f"wrong classes: {', '.join(result['wrong']) or '-'}")
    print(f"false alerts: {len(result['false_alerts'])} in {result['empty']} empty clips: "
          f"{', '.join(result['false_alerts']) or '-'}")
    print(f"false detections (not alerted): {len(result['false_detections'])} in "
          f"{result['empty']} empty clips: {', '.join(result['false_detections']) or '-'}")


def table(results: dict[str, dict[str, Any]],
          cpu: dict[str, tuple[tuple[float, float], tuple[float, float]]]) -> None:
    print()
    print("| detector | person | vehicle | animal | wrong-class clips | false alerts (empty) "
          "| false detections (empty) | CPU ms/frame 416 p50 | CPU ms/frame 1080p p50 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        recall = {c: f"{h / t:.2f} ({h}/{t})" for c, (h, t) in result["recall"].items()}
        n, w = cpu[name]
        print(f"| {name} | {recall.get('person', '-')} | {recall.get('vehicle', '-')} | "
              f"{recall.get('animal', '-')} | {len(result['wrong'])} | "
              f"{len(result['false_alerts'])}/{result['empty']} | "
              f"{len(result['false_detections'])}/{result['empty']} | {n[0]:.1f} | {w[0]:.1f} |")


if __name__ == "__main__":
    main()
