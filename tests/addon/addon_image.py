"""The add-on image, replayed under chroot, and its services started the way s6 starts them.

Shared by tests/addon/test_image_replay.py and bench/image.py. What stands in for the parts of
Home Assistant's base image that Debian lacks (s6-overlay and bashio), each doing what the
scripts use of it and nothing more:

- /usr/bin/with-contenv: exports /run/s6/container_environment (the container's environment
  as s6-overlay saves it at boot), then execs its arguments;
- /usr/bin/bashio: sources the bashio library, then the script (as the real one does);
- /usr/lib/bashio/bashio.sh: tests.addon.conftest.BASHIO_STUB (config and log functions);
- /usr/bin/s6-setuidgid: setpriv (util-linux, in every Debian).
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests import imagereplay
from tests.imagereplay import Image, Recipe

from .conftest import ADDON_DIR, BASHIO_STUB

S6 = "/etc/s6-overlay/s6-rc.d"
ENGINE_ARCHIVE = "${HOMESEC_REPO}/archive/${HOMESEC_REF}.tar.gz"
HA_ARCH = {"amd64": "amd64", "arm64": "aarch64"}

STAND_INS = {
    "usr/bin/with-contenv": (
        "#!/bin/bash\n# Stand-in for s6-overlay's with-contenv.\n"
        "for f in /run/s6/container_environment/*; do\n"
        '    [[ -f "$f" ]] && export "${f##*/}=$(cat "$f")"\n'
        "done\nexec \"$@\"\n"),
    "usr/bin/bashio": (
        "#!/bin/bash\n# Stand-in for bashio's launcher.\n"
        "source /usr/lib/bashio/bashio.sh\nsource \"$@\"\n"),
    "usr/lib/bashio/bashio.sh": BASHIO_STUB,
    # setpriv execs like s6-setuidgid (runuser would stay as a parent and die by the signal).
    "usr/bin/s6-setuidgid": (
        '#!/bin/sh\n# Stand-in for s6-setuidgid.\nuser="$1"; shift\n'
        'exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"\n'),
}


def addon_recipe() -> Recipe:
    build = yaml.safe_load((ADDON_DIR / "build.yaml").read_text(encoding="utf-8"))
    arch = imagereplay._arch()
    return Recipe(
        dockerfile=ADDON_DIR / "Dockerfile",
        context=ADDON_DIR,
        args={str(k): str(v) for k, v in build["args"].items()},
        base_image=build["build_from"][HA_ARCH.get(arch, arch)],
        engine_marker=ENGINE_ARCHIVE,
        engine_source="file://" + imagereplay.ENGINE_SRC,
    )


def install_stand_ins(image: Image) -> None:
    for inside, text in STAND_INS.items():
        path = image.path(inside)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)


@dataclass
class Service:
    name: str
    process: asyncio.subprocess.Process
    log: Path


@dataclass
class Addon:
    """One add-on container: the image root, its /data and the environment s6 would save."""

    image: Image
    container_env: dict[str, str]
    logs: Path
    running: list[Service] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.image.path("/data")

    def write_options(self, options: dict[str, Any]) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "options.json").write_text(json.dumps(options), encoding="utf-8")

    def _save_environment(self) -> None:
        # s6-overlay writes the container's environment (image ENV + what the Supervisor sets)
        # one file per variable; with-contenv reads it back.
        folder = self.image.path("/run/s6/container_environment")
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, value in {**self.image.env, **self.container_env}.items():
            (folder / name).write_text(value, encoding="utf-8")
        for inside in ("/data", "/config", "/media", "/share"):
            self.image.path(inside).mkdir(parents=True, exist_ok=True)

    async def _spawn(self, name: str, argv: list[str]) -> Service:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            # s6 runs services with a bare environment: only PATH.
            process = await asyncio.create_subprocess_exec(
                *self.image.command(argv, image_env=False), stdout=out,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        return Service(name, process, log)

    async def oneshot(self, name: str, timeout: float = 300) -> tuple[int, str]:
        """An s6-rc one-shot: its `up` file is the command line to run."""
        up = self.image.path(f"{S6}/{name}/up").read_text(encoding="utf-8").split()
        service = await self._spawn(name, up)
        code = await asyncio.wait_for(service.process.wait(), timeout)
        return code, service.log.read_text(encoding="utf-8", errors="replace")

    async def start(self) -> None:
        """As s6-rc brings up the user bundle: postgres-init, then postgres, then homesec."""
        self._save_environment()
        code, output = await self.oneshot("postgres-init")
        if code != 0:
            raise AssertionError(f"postgres-init failed ({code}):\n{output}")
        for name in ("postgres", "homesec"):
            self.running.append(await self._spawn(name, [f"{S6}/{name}/run"]))

    async def stop(self, timeout: float = 120) -> dict[str, int]:
        """As s6 stops them: SIGTERM in reverse order, each `finish` run with the exit code."""
        codes: dict[str, int] = {}
        while self.running:
            service = self.running.pop()
            if service.process.returncode is None:
                service.process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(service.process.wait(), timeout)
            except TimeoutError:
                service.process.kill()
                code = await service.process.wait()
            codes[service.name] = code
            # s6 passes 256 and the signal number when the service died by a signal.
            args = [str(code), "0"] if code >= 0 else ["256", str(-code)]
            finish = await self._spawn(f"{service.name}-finish",
                                       [f"{S6}/{service.name}/finish", *args])
            await asyncio.wait_for(finish.process.wait(), 60)
        return codes

    def kill_all(self) -> None:
        """Teardown: whatever still runs is killed (its mount namespace goes with it)."""
        for service in self.running:
            if service.process.returncode is None:
                service.process.kill()
        self.running.clear()

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(encoding="utf-8", errors="replace")
                         for p in sorted(self.logs.glob("*.log")))
