"""Where offsite copies go, through Apache OpenDAL (one API for S3-compatible stores, WebDAV,
and the other services OpenDAL speaks).

OpenDAL was chosen over obstore and aiobotocore by measuring uploads to a local S3 server
(bench/offsite.py; figures in the README): the fastest of the three with half the client CPU
of the next one, a single wheel without botocore's weight, and the same code reaches
WebDAV/Nextcloud, Dropbox, Google Drive and OneDrive, where obstore and aiobotocore only
speak object stores.

Credentials come from the environment variables the config names, never from the config.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import opendal
import opendal.exceptions

CHUNK = 8 * 1024 * 1024  # S3's multipart uploads need parts of at least 5 MiB


class OffsiteConfigError(ValueError):
    """The offsite settings cannot work (a missing credential, a missing bucket name)."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def _secret(config: Mapping[str, Any], field: str, environ: Mapping[str, str]) -> str:
    name = config.get(field)
    if not name:
        raise OffsiteConfigError(f"offsite.{field}", f"required for the {config['backend']} "
                                 "backend (the name of the env var holding it)")
    value = environ.get(name)
    if not value:
        raise OffsiteConfigError(f"offsite.{field}", f"environment variable {name} is not set")
    return value


def operator_options(config: Mapping[str, Any],
                     environ: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The OpenDAL scheme and options for `config` (the validated OffsiteConfig)."""
    env = os.environ if environ is None else environ
    backend = config["backend"]
    root = "/" + str(config.get("root") or "").strip("/")
    if backend == "s3":
        if not config.get("bucket"):
            raise OffsiteConfigError("offsite.bucket", "required for the s3 backend")
        options = {
            "bucket": str(config["bucket"]), "region": str(config.get("region") or "us-east-1"),
            "root": root,
            "access_key_id": _secret(config, "access_key_id_env", env),
            "secret_access_key": _secret(config, "secret_access_key_env", env),
            # Only what the config says: no ~/.aws files, no cloud metadata service.
            "disable_config_load": "true", "disable_ec2_metadata": "true",
        }
        if config.get("endpoint"):
            options["endpoint"] = str(config["endpoint"])
        return "s3", options
    if backend == "webdav":
        if not config.get("endpoint"):
            raise OffsiteConfigError("offsite.endpoint", "required for the webdav backend")
        options = {"endpoint": str(config["endpoint"]), "root": root}
        if config.get("username_env") or config.get("password_env"):
            options["username"] = _secret(config, "username_env", env)
            options["password"] = _secret(config, "password_env", env)
        return "webdav", options
    raise OffsiteConfigError("offsite.backend", f"unknown backend {backend!r}")


class OffsiteTarget:
    """One configured offsite service; `upload` copies a file and checks the copy."""

    def __init__(self, config: Mapping[str, Any],
                 environ: Mapping[str, str] | None = None) -> None:
        self.backend = str(config["backend"])
        scheme, options = operator_options(config, environ)
        self._operator = opendal.AsyncOperator(scheme, **options)
        self._multi_write = bool(self._operator.capability().write_can_multi)
        self._base = f"{self.backend}://{config.get('bucket') or ''}{options['root']}".rstrip("/")

    def uri(self, key: str) -> str:
        return f"{self._base}/{key}"

    def key_of(self, uri: str) -> str | None:
        """The key of one of this target's URIs; None for another target's."""
        prefix = self._base + "/"
        return uri[len(prefix):] if uri.startswith(prefix) else None

    async def download(self, key: str, dest: Path) -> None:
        """Stream `key` into `dest`, which appears only once the whole copy is there."""
        part = dest.with_name(dest.name + ".part")
        sink = await asyncio.to_thread(part.open, "wb")
        try:
            source = await self._operator.open(key, "rb")
            while chunk := await source.read(CHUNK):
                await asyncio.to_thread(sink.write, chunk)
            await source.close()
        finally:
            await asyncio.to_thread(sink.close)
        await asyncio.to_thread(part.replace, dest)

    async def version(self, key: str) -> str | None:
        """What changes when `key` is written again (its ETag, else size and time); None
        when the store has no such object."""
        try:
            meta = await self._operator.stat(key)
        except opendal.exceptions.NotFound:
            return None
        return str(meta.etag or f"{meta.content_length}-{meta.last_modified}")

    async def upload(self, local_path: Path, key: str) -> str:
        """Copy `local_path` to `key`, streamed; the copy's URI once its size is checked.

        A copy cut off half-way is never reported done: the service only shows an object
        once its write was closed, and the size read back must equal the local file's.
        """
        size = await asyncio.to_thread(lambda: local_path.stat().st_size)
        if not self._multi_write:
            # WebDAV takes one PUT per file: the clip goes in one write (one clip in memory).
            await self._operator.write(key, await asyncio.to_thread(local_path.read_bytes))
            return await self._checked(key, size)
        source = await asyncio.to_thread(local_path.open, "rb")
        try:
            writer = await self._operator.open(key, "wb")
            while chunk := await asyncio.to_thread(source.read, CHUNK):
                await writer.write(chunk)
            # Closed only after the last chunk: a failure before leaves the write unfinished
            # (never committed as a short object).
            await writer.close()
        finally:
            await asyncio.to_thread(source.close)
        return await self._checked(key, size)

    async def _checked(self, key: str, size: int) -> str:
        stored = (await self._operator.stat(key)).content_length
        if stored != size:
            raise OSError(f"offsite copy of {key} has {stored} bytes, expected {size}")
        return self.uri(key)

    async def delete(self, key: str) -> None:
        """Remove `key` (a key that is not there is fine)."""
        await self._operator.delete(key)

    async def keys(self) -> list[str]:
        """Every object's key under the root (flat: clips and snapshots are stored by name)."""
        lister = await self._operator.list("/")
        return [entry.path async for entry in lister if entry.path and
                not entry.path.endswith("/")]
