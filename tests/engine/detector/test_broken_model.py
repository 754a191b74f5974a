"""A model that cannot be used: a clear error naming the field, a degraded filter in health and
diagnostics, and clips still recorded, stored and judged by `on_model_error`."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

pytest.importorskip("onnxruntime", reason="the detector runs on onnxruntime")

from homesec_engine.filters import DetectorFilter  # noqa: E402
from homesec_engine.records import ClipFile, utcnow  # noqa: E402
from tests import realdata  # noqa: E402
from tests.engine_harness import DEFAULT_CAMERAS, running_engine  # noqa: E402

from . import graphs  # noqa: E402


def no_family(path: Path) -> Path:
    # A classifier: one [1, 7] score vector, which no detector family produces.
    import numpy as np

    return graphs.save_graph(path, {"scores": np.zeros((1, 7))})


def corrupt(path: Path) -> Path:
    path.write_bytes(os.urandom(4096))
    return path


@pytest.mark.parametrize(("case", "config", "field", "words"), [
    ("missing", lambda p: {"model_path": str(p / "nope.onnx")}, "filter.model_path",
     "does not exist"),
    ("corrupt", lambda p: {"model_path": str(corrupt(p / "bad.onnx"))}, "filter.model_path",
     "not a loadable ONNX model"),
    ("no family", lambda p: {"model_path": str(no_family(p / "cls.onnx"))},
     "filter.model_path", "match no supported family"),
    ("wrong input size", lambda p: {"model_path": str(no_family(p / "fixed.onnx")),
                                    "input_size": [320, 320]}, "filter.input_size",
     "takes 96x64"),
    ("dynamic size unset", lambda p: {"model_path": str(graphs.save_graph(
        p / "dyn.onnx", {"scores": __import__("numpy").zeros((1, 7))},
        input_shape=[1, 3, "h", "w"]))}, "filter.input_size", "dynamic input size"),
])
async def test_an_unusable_model_is_reported_naming_the_field(
    tmp_path: Path, case: str, config, field: str, words: str  # type: ignore[no-untyped-def]
) -> None:
    # Given a detector configured with a model that cannot be used
    detector = DetectorFilter({"on_model_error": "motion", **config(tmp_path)})
    # When it starts
    await detector.start()
    # Then it does not stop the engine: it reports degraded, naming the field to fix
    status = detector.status()
    assert status["status"] == "degraded"
    assert status["error"].startswith(f"{field}:"), status["error"]
    assert words in status["error"]
    assert status["fallback"] == "motion"


@pytest.mark.parametrize(("fallback", "alerted"), [("motion", True), ("hold", False)])
async def test_clips_go_on_being_stored_and_judged_by_the_fallback(
    tmp_path: Path, fallback: str, alerted: bool, socket_enabled: None
) -> None:
    # Given an engine whose model file is missing, with on_model_error = motion or hold, and
    # a camera that uses the detector (so it is loaded at start)
    porch = {"name": "porch", "source_backend": "local_folder",
             "source_config": {"path": str(tmp_path / "incoming")}}
    async with running_engine(tmp_path, cameras=[*DEFAULT_CAMERAS, porch], config={"filter": {
            "model_path": str(tmp_path / "missing.onnx"), "on_model_error": fallback}}) as engine:
        async with aiohttp.ClientSession() as http:
            # Then health is degraded and diagnostics name the field
            async with http.get(f"{engine.api}/health", headers=engine.headers) as resp:
                assert resp.status == 200
                assert (await resp.json())["status"] == "degraded"
            async with http.get(f"{engine.api}/diagnostics", headers=engine.headers) as resp:
                component = (await resp.json())["components"]["filter"]
            assert component["status"] == "degraded"
            assert component["error"].startswith("filter.model_path:")
        # When a camera hands in a clip
        frames = realdata.still_clip(realdata.skimage_photo("coffee.png"), 20)
        work = realdata.write_clip(tmp_path / "work.mp4", frames)
        now = utcnow()
        task = engine.runtime.pipeline.submit(ClipFile("porch", work,
                                                       now - timedelta(seconds=2), now))
        assert task is not None
        outcome = await task
        # Then the clip is stored (nothing lost) and alerts only with the motion fallback
        assert outcome.storage_uri
        record = await engine.runtime.repository.get_clip(outcome.clip_id)
        assert record is not None and record.status == "done"
        assert record.alerted is alerted
