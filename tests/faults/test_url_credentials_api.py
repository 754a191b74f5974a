"""Credentials in a camera URL are refused over the API and never stored or shown
(issue 16, item 4)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.api.conftest import API_KEY, Api
from tests.engine_harness import running_engine

URLS = [
    "rtsp://127.0.0.1:554/stream?password=s3cret",
    "rtsp://127.0.0.1:554/user=admin&password=s3cret&channel=1",
    "rtsp://127.0.0.1:554/cam;pwd=s3cret",
    "rtsp://admin:s3cret@127.0.0.1:554/cam",
]


@pytest.mark.parametrize("field", ["url", "analysis_url"])
@pytest.mark.parametrize("url", URLS)
async def test_a_camera_url_with_a_password_is_refused_naming_the_env_field(
    tmp_path: Path, url: str, field: str
) -> None:
    yard = {"name": "yard", "enabled": False, "source_backend": "rtsp",
            "source_config": {"url_env": "YARD_URL"}}
    async with running_engine(tmp_path, api_key=API_KEY, cameras=[yard]) as engine, \
            aiohttp.ClientSession() as http:
        api = Api(http, engine)
        source = {"url_env": "CAM_URL"} if field == "analysis_url" else {}
        camera = {"name": "porch", "enabled": False, "source_backend": "rtsp",
                  "source_config": {**source, field: url}}
        # When a camera is added, or an existing one changed, with that URL
        for method, path, body in (("POST", "/cameras", camera),
                                   ("PUT", "/cameras/yard",
                                    {"source_config": camera["source_config"]})):
            status, answer, _ = await api.call(method, path, json_body=body)
            # Then it is a 400 naming the field and pointing at its env-var field
            assert status == 400, answer
            problem = answer["errors"][0]
            assert problem["path"].endswith(f"source_config.{field}"), problem
            assert f"{field}_env" in problem["message"] if field == "analysis_url" \
                else "url_env" in problem["message"]
        # And nothing was stored or is shown
        assert not engine.overrides_path.exists() or \
            "s3cret" not in engine.overrides_path.read_text()
        for path in ("/config", "/cameras"):
            _, body, _ = await api.call("GET", path)
            assert "s3cret" not in str(body)
