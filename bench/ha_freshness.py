"""How old Home Assistant's polled HomeSec values get under continuous activity.

    .venvs/newest/bin/python bench/ha_freshness.py [--minutes 10] [--scan-interval 30]

Runs the real engine recording a looping RTSP camera of real footage (people walk across the
plaza every few seconds, so the engine pushes live events and alerts all the time) and a real
`hass` process (tests/e2e/real_hass.py) with HomeSec added through its config flow, polling at
`--scan-interval`. Every second it reads the polled counts from HA's REST API and the same
figures from the engine's /status, and prints, per sensor, the oldest value HA showed: how long
before the engine had moved past it (0 while HA shows the engine's value). A fresh sensor stays
within one scan interval (plus the one-second sampling); a frozen one grows without bound (the
issue saw "Clips today" at 60 while the engine counted 123). HA's `last_reported` cannot be used for
this: its REST answer is cached with the state and does not move when a poll writes the same
value again. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from tests.e2e.ha_harness import engine_for_ha, entry_data  # noqa: E402
from tests.e2e.real_hass import RealHass, running_hass  # noqa: E402
from tests.livestream import person_stream  # noqa: E402
from tests.videotools import RtspTestServer  # noqa: E402

CAMERA = "plaza"


async def add_homesec(hass: RealHass, engine: Any, scan_interval: int) -> None:
    form = await hass.rest("POST", "/api/config/config_entries/flow", {"handler": "homesec"})
    done = await hass.rest("POST", f"/api/config/config_entries/flow/{form['flow_id']}",
                           entry_data(engine))
    entry_id = done["result"]["entry_id"]
    options = await hass.rest("POST", "/api/config/config_entries/options/flow",
                              {"handler": entry_id})
    await hass.rest("POST", f"/api/config/config_entries/options/flow/{options['flow_id']}",
                    {"scan_interval": scan_interval, "motion_reset_s": 30,
                     "sidebar_panel": False})


# Polled values whose engine figure is a plain count: HA's value is compared with the
# engine's own /status at the same moment.
COUNTS = {"Clips today": ("stats", "clips_today"), "Alerts today": ("stats", "alerts_today"),
          "Clips stored": ("storage", "clips_stored")}


def _value(data: dict[str, Any], path: tuple[str, str]) -> Any:
    return (data.get(path[0]) or {}).get(path[1])


async def measure(minutes: float, scan_interval: int, folder: Path) -> None:
    for sub in ("plaza", "engine", "ha"):
        (folder / sub).mkdir()
    plaza = person_stream(folder / "plaza", empty_s=2.0, person_s=4.0, after_s=4.0)
    cameras = [{"name": CAMERA, "enabled": True, "source_backend": "rtsp",
                "source_config": {"url": "", "pre_roll_s": 0.5, "post_roll_s": 1.0,
                                  "min_motion_s": 0.3, "max_clip_s": 8}}]
    with RtspTestServer(plaza.path, loop=True) as server:
        cameras[0]["source_config"]["url"] = server.url
        async with engine_for_ha(folder / "engine", cameras=cameras, run_sources=True,
                                 api_key="bench-key-7f2a") as engine, \
                running_hass(folder / "ha") as hass, aiohttp.ClientSession() as session:
            await add_homesec(hass, engine, scan_interval)
            await asyncio.sleep(2 * scan_interval)  # entities listed, first polls done
            ids = {name: await hass.entity_named("sensor", name) for name in COUNTS}
            # Per count: when the engine's figure last moved away from each value; the age of
            # what HA shows is the time since the engine stopped having that value.
            engine_was: dict[str, Any] = dict.fromkeys(COUNTS)
            moved_away: dict[str, dict[str, float]] = {name: {} for name in COUNTS}
            last_move: dict[str, float] = dict.fromkeys(COUNTS, time.monotonic())
            worst: dict[str, float] = dict.fromkeys(COUNTS, 0.0)
            end = time.monotonic() + minutes * 60
            samples = 0
            while time.monotonic() < end:
                async with session.get(f"{engine.api}/status", headers=engine.headers) as resp:
                    status = await resp.json()
                now = time.monotonic()
                for name, path in COUNTS.items():
                    current = str(_value(status, path))
                    if engine_was[name] is not None and current != engine_was[name]:
                        moved_away[name][engine_was[name]] = last_move[name] = now
                    engine_was[name] = current
                    shown = (await hass.state(ids[name]))["state"]
                    if shown != current:
                        since = moved_away[name].get(shown, last_move[name])
                        worst[name] = max(worst[name], time.monotonic() - since)
                samples += 1
                await asyncio.sleep(1.0)
            clips = _value(status, COUNTS["Clips today"])
    print(f"{minutes:g} min of continuous activity, scan interval {scan_interval} s, "
          f"{samples} samples, {clips} clips today at the end")
    print(f"{'sensor':40} oldest value HA showed: seconds since the engine moved past it")
    for name, seconds in worst.items():
        print(f"{name:40} {seconds:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--scan-interval", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="homesec-freshness-") as folder:
        asyncio.run(measure(args.minutes, args.scan_interval, Path(folder)))


if __name__ == "__main__":
    main()
