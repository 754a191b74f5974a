"""OffsiteTarget against the real servers: files larger than one upload part arrive whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homesec_engine.offsite import OffsiteConfigError, OffsiteTarget
from homesec_engine.offsite.target import CHUNK

from .conftest import DAV_PASSWORD, DAV_USER, S3_KEY_ID, S3_SECRET, DavServer, S3Server


@pytest.mark.parametrize("backend", ["s3", "webdav"])
async def test_a_clip_larger_than_one_part_arrives_whole(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # Given a 2.5-part clip (multipart on S3, one PUT on WebDAV)
    clip = tmp_path / "big.mp4"
    clip.write_bytes(os.urandom(CHUNK * 2 + CHUNK // 2))
    if backend == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        target = OffsiteTarget(
            {"backend": "s3", "endpoint": s3.endpoint, "bucket": s3.bucket, "root": "cams",
             "access_key_id_env": "K", "secret_access_key_env": "S"},
            {"K": S3_KEY_ID, "S": S3_SECRET})
    else:
        dav: DavServer = request.getfixturevalue("webdav_server")
        target = OffsiteTarget(
            {"backend": "webdav", "endpoint": dav.url, "root": "cams",
             "username_env": "U", "password_env": "P"}, {"U": DAV_USER, "P": DAV_PASSWORD})
    # When it is uploaded
    uri = await target.upload(clip, "door/big.mp4")
    # Then the server holds the same bytes, and the URI says where
    stored = (s3.objects()["cams/door/big.mp4"] if backend == "s3"
              else (dav.root / "cams" / "door" / "big.mp4").read_bytes())
    assert stored == clip.read_bytes()
    assert uri.endswith("/cams/door/big.mp4") and uri.startswith(f"{backend}://")


@pytest.mark.parametrize(("config", "path"), [
    ({"backend": "s3", "access_key_id_env": "K", "secret_access_key_env": "S"},
     "offsite.bucket"),
    ({"backend": "s3", "bucket": "b", "secret_access_key_env": "S"},
     "offsite.access_key_id_env"),
    ({"backend": "webdav"}, "offsite.endpoint"),
    ({"backend": "webdav", "endpoint": "http://127.0.0.1:1", "username_env": "U",
      "password_env": "UNSET_PASSWORD"}, "offsite.password_env"),
])
def test_settings_that_cannot_work_name_the_field(config: dict[str, str], path: str) -> None:
    # Given offsite settings missing a piece / When the target is built / Then the field
    # is named
    with pytest.raises(OffsiteConfigError) as err:
        OffsiteTarget(config, {"K": "k", "S": "s", "U": "u"})
    assert err.value.path == path
