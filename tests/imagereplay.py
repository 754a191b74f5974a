"""Replay a Dockerfile without Docker: debootstrap its Debian release, run its steps under chroot.

Used by tests/addon/test_image_replay.py (the add-on image), tests/test_standalone_image.py
(the root Dockerfile) and bench/image.py. What it does, in the order a build would:

1. the base: a Debian `minbase` made by debootstrap for the release the Dockerfile's base image
   names, cached as a tarball under ~/.cache/homesec/debian (about 60 MB; made once, needs
   root and deb.debian.org). debootstrap comes from the machine, or from Debian's .deb unpacked
   into the cache (`apt-get download` + `dpkg -x`: nothing is installed on the system);
2. the steps: ARG/ENV/RUN/COPY/USER/WORKDIR parsed from the Dockerfile itself (so the replay
   cannot drift from it), RUN lines run by `/bin/sh -c` inside the chroot with the build
   arguments and ENV values in the environment. Steps before the one that installs the engine
   are cached as one more tarball keyed by their text ("layer cache"); the engine step installs
   the working tree instead of the release archive (pip downloads the engine's dependencies
   on every replay, as `--no-cache-dir` in the Dockerfile says: a wheel cache could hand back
   an engine built from an older tree);
3. running: `run()` starts a command in the finished root with the image's ENV.

Every command runs in its own mount namespace (`unshare --mount`): /proc, /sys and a private
tmpfs /dev with the usual device nodes exist only for that process tree and vanish with it, so
no mount can be left behind on the machine even if a test is killed. The chroot shares the
machine's network (loopback included): services inside must use spare ports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HOMESEC_CACHE_DIR", Path.home() / ".cache" / "homesec"))
MIRROR = "http://deb.debian.org/debian"
# What Home Assistant's base-debian images add to Debian's slim image: bash, curl, jq,
# certificates and time zones (bashio, tempio and s6-overlay are stood in by the tests).
BASE_PACKAGES = ("bash", "ca-certificates", "curl", "jq", "tzdata")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Mount-namespace prologue: $R is the root. The device nodes Docker gives every container.
_MOUNTS = r"""
set -e
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs -o mode=0755,nosuid dev "$R/dev"
mkdir -p "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"
mknod -m 666 "$R/dev/null" c 1 3; mknod -m 666 "$R/dev/zero" c 1 5
mknod -m 666 "$R/dev/full" c 1 7; mknod -m 666 "$R/dev/random" c 1 8
mknod -m 666 "$R/dev/urandom" c 1 9; mknod -m 666 "$R/dev/tty" c 5 0
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
"""


class ReplayError(RuntimeError):
    """A build step failed; the message carries the step and the end of its output."""


def can_replay() -> str | None:
    """Why replaying is impossible here, or None."""
    if os.geteuid() != 0:
        return "chroot, mount and debootstrap need root"
    for tool in ("unshare", "chroot", "mount", "tar"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


# --- Dockerfile parsing -------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    kind: str  # ARG, ENV, RUN, COPY, USER, WORKDIR, ...
    text: str  # the rest of the instruction, continuation lines joined


def parse_dockerfile(path: Path) -> list[Step]:
    steps: list[Step] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        kind, _, rest = full.partition(" ")
        steps.append(Step(kind.upper(), rest.strip()))
    return steps


_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def expand(text: str, values: Mapping[str, str]) -> str:
    """Docker's variable substitution in ENV/COPY/USER ($NAME, ${NAME}; unknown -> empty)."""
    return _VAR.sub(lambda m: values.get(m.group(1) or m.group(2), ""), text)


def parse_env(text: str, values: Mapping[str, str]) -> dict[str, str]:
    """`ENV A=1 B="x y"` (or the old `ENV A 1`) into a mapping, values expanded."""
    words = shlex.split(text, posix=True)
    if words and "=" not in words[0]:
        return {words[0]: expand(" ".join(words[1:]), values)}
    out: dict[str, str] = {}
    for word in words:
        name, _, value = word.partition("=")
        out[name] = expand(value, {**values, **out})
    return out


def debian_release(image: str) -> str:
    """`ghcr.io/home-assistant/amd64-base-debian:trixie` -> `trixie` (also debian:trixie-slim)."""
    name, _, tag = image.rpartition(":")
    if "debian" not in name.rsplit("/", 1)[-1] or not tag:
        raise ReplayError(f"{image} is not a Debian base image: nothing to debootstrap")
    return tag.split("-", 1)[0]


# --- Base root (debootstrap, cached) -------------------------------------------------------

def _run(cmd: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
         what: str = "") -> str:
    result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout,
                            env=dict(env) if env is not None else None, check=False)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-4000:]
        raise ReplayError(f"{what or cmd[0]} failed ({result.returncode}):\n{tail}")
    return result.stdout


def _debootstrap() -> tuple[list[str], dict[str, str]]:
    """The debootstrap command and its environment: the machine's, or one from the cache."""
    env = dict(os.environ)
    found = shutil.which("debootstrap")
    if found:
        return [found], env
    tool = CACHE / "debootstrap-tool"
    script = tool / "root" / "usr" / "sbin" / "debootstrap"
    if not script.is_file():
        tool.mkdir(parents=True, exist_ok=True)
        for old in tool.glob("debootstrap_*.deb"):
            old.unlink()
        _run(["apt-get", "download", "debootstrap"], timeout=300, what="apt-get download")
        # apt-get download writes into the current folder: move the file into the cache.
        for deb in Path.cwd().glob("debootstrap_*.deb"):
            shutil.move(str(deb), tool / deb.name)
        deb = next(tool.glob("debootstrap_*.deb"))
        _run(["dpkg", "-x", str(deb), str(tool / "root")], timeout=120, what="dpkg -x")
    env["DEBOOTSTRAP_DIR"] = str(tool / "root" / "usr" / "share" / "debootstrap")
    return [str(script)], env


def _arch() -> str:
    return _run(["dpkg", "--print-architecture"], timeout=30).strip()


def base_tarball(release: str) -> Path:
    """Debian `release` minbase (+ BASE_PACKAGES) as a cached tarball; made on first use."""
    key = hashlib.sha256(" ".join(BASE_PACKAGES).encode()).hexdigest()[:8]
    target = CACHE / "debian" / f"{release}-{_arch()}-minbase-{key}.tar.gz"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"debootstrap-{release}-", dir=target.parent))
    try:
        cmd, env = _debootstrap()
        _run([*cmd, "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", release,
              str(work / "root"), MIRROR], timeout=3600, env=env, what="debootstrap")
        _pack(work / "root", target)
    finally:
        _remove_tree(work)
    return target


def _pack(root: Path, target: Path) -> None:
    part = target.with_suffix(".part")
    # gzip -1: a cache on a busy machine, not an archive; three times faster than the default.
    _run(["tar", "--numeric-owner", "-C", str(root), "-I", "gzip -1", "-cf", str(part), "."],
         timeout=1800, what="tar")
    part.rename(target)


def _unpack(tarball: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _run(["tar", "--numeric-owner", "-xpzf", str(tarball), "-C", str(root)], timeout=1800,
         what="untar")


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        points = [line.split()[1] for line in handle]
    return [p for p in points if p.startswith(prefix) or p == prefix[:-1]]


def _remove_tree(path: Path) -> None:
    """rm -rf, but never through a mount point (that would delete the machine's files)."""
    if not path.exists():
        return
    for point in sorted(_mounts_under(path), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, timeout=60)
    if _mounts_under(path):
        raise ReplayError(f"{path} still has mounts {_mounts_under(path)}; not deleting it")
    shutil.rmtree(path, ignore_errors=True)


# --- The image ------------------------------------------------------------------------------

@dataclass
class Image:
    """A replayed image: its root folder and the ENV/USER/WORKDIR its steps left."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    user: str = "root"
    workdir: str = "/"
    meta: dict[str, str] = field(default_factory=dict)  # CMD and HEALTHCHECK, as written

    def cmd(self) -> list[str]:
        """The exec-form CMD as an argv."""
        return list(json.loads(self.meta["CMD"]))

    def healthcheck(self) -> list[str]:
        """The exec-form HEALTHCHECK command (its options dropped)."""
        text = self.meta["HEALTHCHECK"]
        return list(json.loads(text[text.index("CMD") + 3:].strip()))

    def command(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
                user: str | None = None, image_env: bool = True) -> list[str]:
        """argv run in the image: own mount namespace, chroot, clean environment.

        image_env=False leaves out the image's ENV, as s6 does for its services (they get it
        back through with-contenv).
        """
        who = user if user is not None else self.user
        full_env = {"PATH": DEFAULT_PATH, "HOME": self.home(who),
                    **(self.env if image_env else {}), **(env or {})}
        inner = ["env", "-i", *(f"{k}={v}" for k, v in full_env.items())]
        if who not in ("root", "0"):
            inner = ["setpriv", f"--reuid={who}", f"--regid={who}", "--init-groups", *inner]
        inner = [*inner, "/bin/sh", "-c", 'cd "$0" && exec "$@"', self.workdir, *argv]
        script = _MOUNTS + 'exec chroot "$R" ' + " ".join(map(shlex.quote, inner))
        return ["unshare", "--mount", "--propagation", "private", "--", "env",
                f"R={self.root}", "/bin/sh", "-c", script]

    def home(self, user: str) -> str:
        """The user's home from the image's /etc/passwd, as Docker sets HOME."""
        for line in self.path("/etc/passwd").read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) > 5 and user in (fields[0], fields[2]):
                return fields[5]
        return "/"

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            user: str | None = None, what: str = "") -> str:
        return _run(self.command(argv, env, user), timeout=timeout, what=what or argv[0])

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def installed_bytes(self) -> int:
        """Bytes of the files in the image (what `docker images` calls its size, roughly)."""
        total = 0
        for folder, dirs, files in os.walk(self.root):
            here = Path(folder)
            if here == self.root:
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
            for name in files:
                try:
                    total += (here / name).lstat().st_size
                except FileNotFoundError:
                    pass
        return total

    def remove(self) -> None:
        _remove_tree(self.root.parent if self.root.name == "root" else self.root)


@dataclass(frozen=True)
class Recipe:
    """What to replay: the Dockerfile, its context, its build args and the engine step."""

    dockerfile: Path
    context: Path
    args: dict[str, str]
    base_image: str  # the FROM image after substitution (BUILD_FROM for the add-on)
    engine_marker: str  # text that only the engine-installing RUN step contains
    engine_source: str  # what replaces engine_marker: the working tree inside the root


ENGINE_SRC = "/tmp/homesec-src"


def _copy_worktree(root: Path) -> None:
    """The working tree's files (tracked and new, not ignored) at ENGINE_SRC in the root."""
    listing = _run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                    "--exclude-standard"], timeout=60, what="git ls-files")
    target = root / ENGINE_SRC.lstrip("/")
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the work tree
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


def _prepare_root(root: Path) -> None:
    """What Docker provides around a build: DNS, Debian's apt sources, no service starts."""
    shutil.copy2("/etc/resolv.conf", root / "etc" / "resolv.conf")
    suite = (root / "etc" / "apt" / "sources.list").read_text(encoding="utf-8").split()[2]
    (root / "etc" / "apt" / "sources.list").unlink()
    (root / "etc" / "apt" / "sources.list.d" / "debian.sources").write_text(
        f"Types: deb\nURIs: {MIRROR}\nSuites: {suite} {suite}-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: {suite}-security\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
        encoding="utf-8")
    # Debian's images carry no package files; debootstrap leaves its downloads behind.
    for deb in (root / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        deb.unlink()
    # Docker's Debian images forbid maintainer scripts to start services (exit 101).
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)


def replay(recipe: Recipe, workdir: Path) -> Image:
    """Build `recipe` into workdir/root; steps before the engine step come from a cache."""
    steps = parse_dockerfile(recipe.dockerfile)
    first_from = next(i for i, s in enumerate(steps) if s.kind == "FROM")
    release = debian_release(recipe.base_image)
    engine_at = next((i for i, s in enumerate(steps)
                      if s.kind == "RUN" and recipe.engine_marker in s.text), None)
    if engine_at is None:
        raise ReplayError(f"no RUN step in {recipe.dockerfile} contains {recipe.engine_marker!r}")
    base = base_tarball(release)
    # The layer cache ends at the engine step or at the first COPY (files can change while
    # the step text stays the same), whichever comes first.
    cut = next((i for i in range(first_from + 1, engine_at) if steps[i].kind == "COPY"),
               engine_at)
    cached_steps = steps[first_from + 1:cut]
    key = hashlib.sha256(repr((base.name, cached_steps, sorted(recipe.args.items())))
                         .encode()).hexdigest()[:16]
    layer = CACHE / "debian" / f"layer-{release}-{key}.tar.gz"
    root = workdir / "root"
    image = Image(root)
    values = dict(recipe.args)

    def apply(step: Step, *, execute: bool) -> None:
        if step.kind == "ARG":
            name, _, default = step.text.partition("=")
            values.setdefault(name, default)
        elif step.kind == "ENV":
            new = parse_env(step.text, {**values, **image.env})
            image.env.update(new)
        elif step.kind == "USER":
            image.user = expand(step.text, {**values, **image.env})
        elif step.kind == "WORKDIR":
            image.workdir = expand(step.text, {**values, **image.env})
            if execute:
                image.path(image.workdir).mkdir(parents=True, exist_ok=True)
        elif step.kind == "COPY" and execute:
            words = shlex.split(expand(step.text, values))
            chown = next((w.split("=", 1)[1] for w in words if w.startswith("--chown=")), None)
            words = [w for w in words if not w.startswith("--")]
            *sources, dest = words
            for source in sources:
                _copy_into(recipe.context / source, image, dest, chown)
        elif step.kind == "RUN" and execute:
            text = step.text
            if step is steps[engine_at]:
                text = text.replace(recipe.engine_marker, recipe.engine_source)
            env = {**values, **image.env, **_build_env(root)}
            image.run(["/bin/sh", "-c", text], timeout=3600, env=env, what=f"RUN {text[:200]}")
        elif step.kind in ("CMD", "HEALTHCHECK"):
            image.meta[step.kind] = step.text
        # FROM/LABEL/EXPOSE/VOLUME change no file.

    if layer.is_file():
        _unpack(layer, root)
        for step in cached_steps:
            apply(step, execute=False)
    else:
        _unpack(base, root)
        _prepare_root(root)
        for step in cached_steps:
            apply(step, execute=True)
        _pack(root, layer)
    if recipe.engine_source != recipe.engine_marker:
        _copy_worktree(root)  # the working tree instead of the release archive
    for step in steps[cut:]:
        apply(step, execute=True)
    (root / HOST_CA.lstrip("/")).unlink(missing_ok=True)
    shutil.rmtree(root / ENGINE_SRC.lstrip("/"), ignore_errors=True)
    return image


HOST_CA = "/tmp/host-ca.crt"


def _build_env(root: Path) -> dict[str, str]:
    """Build-time only: this machine's trust store (a TLS-inspecting proxy may sit between it
    and PyPI, as on this CI), as `docker build` on the same machine would need it too. The
    file is removed from the root when the build ends."""
    host_bundle = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    if not host_bundle.is_file():
        return {}
    shutil.copy2(host_bundle, root / HOST_CA.lstrip("/"))
    env = {name: HOST_CA for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    if os.environ.get("PIP_DEFAULT_TIMEOUT"):
        env["PIP_DEFAULT_TIMEOUT"] = os.environ["PIP_DEFAULT_TIMEOUT"]
    return env


def _copy_into(source: Path, image: Image, dest: str, chown: str | None) -> None:
    target = image.path(dest)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    else:
        if dest.endswith("/"):
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    if chown:
        image.run(["chown", "-R", chown, dest], timeout=120, what="COPY --chown")


def new_workdir(prefix: str) -> Path:
    """A unique throw-away folder for one replay (0755: service users must reach the root)."""
    base = CACHE / "replay"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    work.chmod(0o755)
    return work
