"""The add-on image's installed size and its cold start to healthy, measured in the chroot.

    sudo .venvs/newest/bin/python bench/image.py [--starts 3]

Replays addon/homesec/Dockerfile with tests/imagereplay.py (root; the debootstrapped Debian
and the package layer come from ~/.cache/homesec after the first run), then:

- size: bytes of every file in the image root, split into the Debian base (debootstrap
  minbase + what Home Assistant's base image adds), Debian's packages from the Dockerfile
  (PostgreSQL, Python, ffmpeg and their libraries) and the engine's virtualenv (/opt/homesec,
  onnxruntime, PyAV and numpy included). A `docker images` figure also counts layer metadata
  and the real base's s6-overlay and bashio (a few MB);
- cold start: from starting postgres-init on an empty /data (first start: initdb, password,
  role and database, then PostgreSQL and the engine) to /api/v1/health answering `healthy`,
  and the warm start (same /data, second start) — `--starts` runs each, p50 and max printed.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import imagereplay  # noqa: E402
from tests.addon.addon_image import Addon, addon_recipe, install_stand_ins  # noqa: E402
from tests.addon.conftest import SupervisorStandIn, addon_manifest, closed_port  # noqa: E402
from tests.loopback import serve_loopback  # noqa: E402

MB = 1_000_000


def _tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


async def _start_to_healthy(addon: Addon, api: str) -> float:
    began = time.perf_counter()
    await addon.start()
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(300):
            while True:
                try:
                    async with session.get(f"{api}/health") as response:
                        if response.status == 200 and \
                                (await response.json())["status"] == "healthy":
                            return time.perf_counter() - began
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)


async def _measure(image: imagereplay.Image, starts: int) -> tuple[list[float], list[float]]:
    supervisor = SupervisorStandIn(token=uuid.uuid4().hex, allowed_services=["homesec"])
    cold: list[float] = []
    warm: list[float] = []
    async with serve_loopback(supervisor.app()) as supervisor.url:
        for _ in range(starts):
            pg_port, api_port = closed_port(), closed_port()
            shutil.rmtree(image.path("/data"), ignore_errors=True)
            shutil.rmtree(image.path("/config"), ignore_errors=True)
            addon = Addon(image, logs=image.root.parent / "logs", container_env={
                "SUPERVISOR_TOKEN": supervisor.token, "SUPERVISOR_URL": supervisor.url,
                "HOMESEC_SUPERVISOR_CORE_URL": f"{supervisor.url}/core",
                "HOSTNAME": "bench-homesec", "HOMESEC_PG_PORT": str(pg_port),
                "HOMESEC_ADDON_BUNDLED_DB_URL":
                    f"postgresql://homesec@127.0.0.1:{pg_port}/homesec",
                "HOMESEC_ADDON_PORT": str(api_port)})
            addon.write_options(dict(addon_manifest()["options"]))
            api = f"http://127.0.0.1:{api_port}/api/v1"
            try:
                cold.append(await _start_to_healthy(addon, api))
                await addon.stop()
                warm.append(await _start_to_healthy(addon, api))
                await addon.stop()
            finally:
                addon.kill_all()
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    reason = imagereplay.can_replay()
    if reason:
        sys.exit(f"cannot replay here: {reason}")
    work = imagereplay.new_workdir("bench-")
    try:
        began = time.perf_counter()
        image = imagereplay.replay(addon_recipe(), work)
        built = time.perf_counter() - began
        install_stand_ins(image)
        total = image.installed_bytes()
        venv = _tree_bytes(image.path("/opt/homesec"))
        base_root = work / "base"
        release = imagereplay.debian_release(addon_recipe().base_image)
        imagereplay._unpack(imagereplay.base_tarball(release), base_root)
        # The Dockerfile empties apt's lists and cache: they are not part of the image.
        base = _tree_bytes(base_root) - sum(_tree_bytes(base_root / d) for d in
                                            ("var/lib/apt/lists", "var/cache/apt"))
        print(f"replay: {built:.0f} s (cached layers reused where present)")
        print(f"installed size: {total / MB:.0f} MB = Debian {release} base {base / MB:.0f} MB"
              f" + Debian packages {(total - base - venv) / MB:.0f} MB"
              f" + engine virtualenv {venv / MB:.0f} MB")
        cold, warm = asyncio.run(_measure(image, args.starts))
        print(f"cold start to healthy (empty /data, {len(cold)} runs): "
              f"p50 {statistics.median(cold):.1f} s, max {max(cold):.1f} s")
        print(f"warm start to healthy (existing /data, {len(warm)} runs): "
              f"p50 {statistics.median(warm):.1f} s, max {max(warm):.1f} s")
    finally:
        imagereplay._remove_tree(work)


if __name__ == "__main__":
    main()
