"""An engine killed in the middle of config writes never leaves a corrupt config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml

from homesec_engine.config.loader import merge_all, read_yaml, validate_config

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from homesec_engine.config import ConfigManager

    async def main() -> None:
        root = Path(sys.argv[1])
        manager = ConfigManager([root / "config.yaml"], root / "overrides.yaml")
        await manager.load()
        n = 0
        while True:
            n += 1
            name = f"cam_{n % 7}"
            if any(c["name"] == name for c in manager.get_config()["cameras"]):
                await manager.remove_camera(name)
            else:
                await manager.add_camera({"name": name, "source_backend": "demo",
                                          "source_config": {"interval_s": n % 50 + 1}})
            if n == 2:
                # Two changes are on disk (the second kept the first as .bak): from here a
                # kill lands amid writes (on a loaded machine the first writes alone can take
                # longer than the test waits).
                print("ready", flush=True)

    asyncio.run(main())
    """
)


def test_sigkill_mid_write_leaves_a_valid_override_file(tmp_path: Path) -> None:
    # Given an engine process rewriting its override file as fast as it can
    (tmp_path / "config.yaml").write_text("log_level: info\n")
    versions = []
    for round_ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)],
            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
            time.sleep(0.05 + 0.03 * round_)
            # When it is killed without warning, mid-stream of writes
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
        # Then the override file is complete YAML that validates, and versions only grow
        overrides = read_yaml(tmp_path / "overrides.yaml")
        config = validate_config(merge_all([read_yaml(tmp_path / "config.yaml"), overrides]))
        versions.append(config["config_version"])
        backup = tmp_path / "overrides.yaml.bak"
        assert isinstance(yaml.safe_load(backup.read_text()), dict)
    assert versions == sorted(versions) and versions[-1] > 1
