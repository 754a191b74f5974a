"""Snapshot hammer: 8 clients asking a live RTSP camera for snapshots for 60 s (issue 26).

The panel's live grid asks every camera for a tile about once a second, from every open
browser. Here ``--clients`` threads ask one camera for snapshots back to back, at the sizes a
grid and a full view use, for ``--seconds``, while the camera records motion. The engine runs
as ``homesec run`` in a child process (so a crash shows as one) on loopback; the RTSP server
(tests/videotools.py) loops a scene with a moving object for 3 s out of every 10.

Prints: requests, answers by status, p50/p99 latency, the engine's CPU time per snapshot,
clips recorded and finished during a quiet baseline and during the hammer, and
whether the engine is up, healthy and stops on SIGTERM afterwards. Asserts nothing.

    python bench/snapshot_hammer.py [--seconds 60] [--clients 8] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.engine_process import EngineProcess, http  # noqa: E402
from tests.videotools import RtspTestServer, Segment, make_motion_video  # noqa: E402

SIZES = ["?width=320", "?width=640", "", "?height=180", "?width=160&height=160"]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0  # no answer: reset, refused, timed out
    return status, time.perf_counter() - started


def clips_since(engine: EngineProcess, since: float) -> tuple[int, int]:
    """(recorded, finished) clips of the camera that started at or after `since`."""
    _, body = http("GET", f"{engine.url}/clips?camera=porch&page_size=100")
    clips = [c for c in body.get("clips", [])
             if datetime.fromisoformat(c["created_at"].replace("Z", "+00:00")).timestamp()
             >= since]
    return len(clips), sum(1 for c in clips if c["status"] == "done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = make_motion_video(work / "scene.mp4", [Segment(3, 6)], duration_s=10,
                                  width=width, height=height, gop=10)
        with RtspTestServer(video, loop=True) as server:
            cameras = [
                {"name": "demo", "enabled": False, "source_backend": "demo",
                 "source_config": {}},
                {"name": "porch", "source_backend": "rtsp",
                 "source_config": {"url": server.url, "pre_roll_s": 1, "post_roll_s": 1}}]
            engine = EngineProcess(work, config={"cameras": cameras})
            with engine:
                engine.wait_healthy()
                url = f"{engine.url}/cameras/porch/snapshot"
                while get(url)[0] != 200:
                    time.sleep(0.2)
                assert engine.proc is not None
                pid = engine.proc.pid
                # Baseline: the same time without snapshot clients (at most 30 s)
                quiet_s = min(args.seconds, 30.0)
                start, cpu0 = time.time(), cpu_s(pid)
                time.sleep(quiet_s)
                base_cpu = cpu_s(pid) - cpu0
                base_clips = clips_since(engine, start)

                results: list[tuple[int, float]] = []
                lock = threading.Lock()
                stop = time.monotonic() + args.seconds

                def client(i: int) -> None:
                    k = 0
                    while time.monotonic() < stop:
                        answer = get(url + SIZES[(i + k) % len(SIZES)])
                        k += 1
                        with lock:
                            results.append(answer)

                hammer_start, cpu1 = time.time(), cpu_s(pid)
                threads = [threading.Thread(target=client, args=(i,))
                           for i in range(args.clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                hammer_cpu = cpu_s(pid) - cpu1
                alive = engine.proc.poll() is None
                time.sleep(8)  # let the clip of the last motion finish
                clips = clips_since(engine, hammer_start) if alive else (0, 0)
                status, health = http("GET", f"{engine.url}/health") if alive else (0, {})
                _, cams = http("GET", f"{engine.url}/cameras") if alive else (0, {})
                porch = next((c for c in cams.get("cameras", []) if c["name"] == "porch"), {})
                stopped_at = time.monotonic()
                engine.proc.terminate()
                code = engine.proc.wait(timeout=60)
                stop_s = time.monotonic() - stopped_at

    latencies = sorted(t for s, t in results if s == 200)
    statuses: dict[int, int] = {}
    for s, _ in results:
        statuses[s] = statuses.get(s, 0) + 1
    ok = len(latencies)
    extra_cpu = hammer_cpu - base_cpu * args.seconds / quiet_s
    figures = {
        "clients": args.clients, "seconds": args.seconds, "camera": args.size,
        "requests": len(results), "answers": statuses,
        "snapshots_per_s": round(ok / args.seconds, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * latencies[int(0.99 * (ok - 1))], 1) if latencies else None,
        "engine_cpu_per_s_quiet": round(base_cpu / quiet_s, 3),
        "engine_cpu_per_s_hammer": round(hammer_cpu / args.seconds, 3),
        "extra_cpu_ms_per_snapshot": round(1000 * extra_cpu / ok, 2) if ok else None,
        "clips_recorded_done_quiet": base_clips, "quiet_s": quiet_s,
        "clips_recorded_done_hammer": clips,
        "engine_up_after": alive, "health_after": health.get("status"),
        "camera_healthy_after": porch.get("healthy"),
        "sigterm_exit_code": code, "sigterm_stop_s": round(stop_s, 1),
    }
    print(json.dumps(figures, indent=2))
    print(f"\n| clients | requests | 200s | p50 | p99 | extra CPU/snapshot | clips done quiet -> "
          f"hammer | after |\n|---|---|---|---|---|---|---|---|\n| {args.clients} | "
          f"{len(results)} | {ok} | {figures['p50_ms']} ms | {figures['p99_ms']} ms | "
          f"{figures['extra_cpu_ms_per_snapshot']} ms | "
          f"{base_clips[1]}/{quiet_s:.0f} s -> {clips[1]}/{args.seconds:.0f} s | "
          f"up: {alive}, health: {figures['health_after']}, SIGTERM exit {code} |")


if __name__ == "__main__":
    main()
