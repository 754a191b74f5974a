"""Live snapshots asked for in parallel (issue 26, item 1).

The panel's live grid asks every camera for a tile at once, often from several browsers. The
camera's newest decoded frame is read by its decode thread, the live detector and every
snapshot request: none of them may convert it in place (PyAV's scaler writes the frame's colour
tags while it scales, and before PyAV 19 kept one scaler per frame: a segfault in libswscale
when two threads used it at once). The stream, the server and the engine are real.
"""

from __future__ import annotations

import io
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from homesec_engine.live.watch import frame_rgb
from homesec_engine.sources.analysis import analysis_gray
from homesec_engine.sources.live import encode_jpeg
from tests.videotools import RtspTestServer, Segment, make_motion_video

from .engine_process import EngineProcess, http

BT709 = 1  # AVCOL_SPC / AVCOL_TRC / AVCOL_PRI value of ITU-R BT.709, what HD cameras tag


def _camera_frame(tmp_path: Path) -> av.VideoFrame:
    video = make_motion_video(tmp_path / "scene.mp4", [Segment(0, 2)], duration_s=2,
                              width=640, height=360)
    with av.open(str(video)) as container:
        frame = list(container.decode(video=0))[5]
    frame.colorspace, frame.color_range = BT709, 1
    frame.color_trc = frame.color_primaries = BT709
    return frame


def _tags(frame: av.VideoFrame) -> tuple[int, int, int, int]:
    return (int(frame.colorspace), int(frame.color_range), int(frame.color_trc),
            int(frame.color_primaries))


def test_a_frame_read_by_many_threads_at_once_is_never_changed(tmp_path: Path) -> None:
    # Given a camera's decoded frame, tagged BT.709 as HD cameras send it
    frame = _camera_frame(tmp_path)
    tags = _tags(frame)
    # (and one in a pixel format the motion decode converts rather than reads directly)
    odd = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
    odd.colorspace, odd.color_range = BT709, 1
    odd.color_trc = odd.color_primaries = BT709
    alone = encode_jpeg(frame, 320)
    failures: list[str] = []

    def reader(i: int) -> None:
        try:
            for _ in range(60):
                if i % 3 == 0:
                    frame_rgb(frame, 416)  # the live detector
                elif i % 3 == 1:
                    analysis_gray(odd, 160)  # motion detection
                    encode_jpeg(frame, 160 + 32 * (i % 4))  # a grid tile
                else:
                    encode_jpeg(frame, 320)  # another browser's tile
        except Exception as err:  # noqa: BLE001 - collected, asserted below
            failures.append(repr(err))

    # When eight threads make snapshots and detector input of it at once
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then none failed, and the frame is exactly as decoded: its colour tags were not
    # rewritten under the other readers
    assert not failures, failures[:3]
    assert _tags(frame) == tags and _tags(odd) == tags
    # And a snapshot made now is the same picture as one made alone
    assert encode_jpeg(frame, 320) == alone


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _jpeg_size(body: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(body), format="image2pipe") as container:
        picture = next(container.decode(video=0))
        return picture.width, picture.height


def test_eight_parallel_snapshot_clients_leave_the_engine_up_healthy_and_recording(
        tmp_path: Path) -> None:
    # Given a live RTSP camera whose scene has a moving object for 3 s out of every 10
    video = make_motion_video(tmp_path / "scene.mp4", [Segment(3, 6)], duration_s=10,
                              width=640, height=360, gop=10)
    cameras = [{"name": "demo", "enabled": False, "source_backend": "demo", "source_config": {}},
               {"name": "porch", "source_backend": "rtsp",
                "source_config": {"pre_roll_s": 1, "post_roll_s": 1, "read_timeout_s": 2,
                                  "reconnect_max_backoff_s": 1}}]
    with RtspTestServer(video, loop=True) as server:
        cameras[1]["source_config"]["url"] = server.url  # type: ignore[index]
        engine = EngineProcess(tmp_path, config={"cameras": cameras})
        with engine:
            engine.wait_healthy()
            snapshot = f"{engine.url}/cameras/porch/snapshot"
            deadline = time.monotonic() + 30
            while _get(snapshot)[0] != 200:
                assert time.monotonic() < deadline, "the camera never showed a picture"
                time.sleep(0.2)
            hammer_started = time.time()
            sizes = ["?width=320", "?width=640", "", "?height=90", "?width=160&height=160"]

            # When eight clients ask for snapshots of it at once, at several sizes, 25 each
            def client(i: int) -> list[tuple[int, bytes]]:
                return [_get(snapshot + sizes[(i + k) % len(sizes)]) for k in range(25)]

            with ThreadPoolExecutor(8) as pool:
                answers = [a for result in pool.map(client, range(8)) for a in result]
            # Then every one got a picture, and the engine is still running
            assert engine.proc is not None and engine.proc.poll() is None, "the engine died"
            statuses = {status for status, _ in answers}
            assert statuses == {200}, statuses
            # And each the size it asked for (a full-size one is the camera's 640 x 360)
            assert _jpeg_size(answers[2][1]) == (640, 360)
            assert _jpeg_size(answers[0][1]) == (320, 180)
            # And the engine is healthy, the camera online
            status, health = http("GET", f"{engine.url}/health")
            assert status == 200 and health["status"] == "healthy", health
            status, cameras_now = http("GET", f"{engine.url}/cameras")
            porch = next(c for c in cameras_now["cameras"] if c["name"] == "porch")
            assert porch["healthy"] is True, porch
            # And it still records and processes clips: one of the motion after the hammer
            # began is stored and finished
            deadline = time.monotonic() + 60
            finished: list[dict[str, object]] = []
            while not finished:
                assert time.monotonic() < deadline, "no clip finished after the hammer"
                time.sleep(0.5)
                _, clips = http("GET", f"{engine.url}/clips?camera=porch&status=done")
                finished = [c for c in clips.get("clips", [])
                            if _epoch(str(c["created_at"])) >= hammer_started]
            # And SIGTERM still stops it (a hung engine ignored it)
            engine.proc.terminate()
            assert engine.proc.wait(timeout=30) == 0


def _epoch(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
