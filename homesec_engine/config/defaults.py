"""The embedded default: runs with no config file and no hardware.

SQLite and clips under ./data, the demo camera, the API and panel on 127.0.0.1:8080. The demo
camera reads `demo_url` (real footage looping on loopback: homesec_engine/demo/) with the
`rtsp` source when given, else it is the synthetic scene of the `demo` source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("data")


def embedded_default(data_dir: Path = DEFAULT_DATA_DIR, demo_url: str | None = None) -> dict[str, Any]:
    demo: dict[str, Any] = (
        {"source_backend": "rtsp", "source_config": {"url": demo_url}} if demo_url else
        # DemoSourceConfig's defaults: one place states them
        {"source_backend": "demo", "source_config": {}})
    return {
        "server": {"host": "127.0.0.1", "port": 8080},
        "storage": {"backend": "local", "path": str(data_dir / "clips")},
        "state": {"url": f"sqlite:///{data_dir / 'homesec.db'}",
                  "outbox_path": str(data_dir / "outbox")},
        "cameras": [{"name": "demo", "enabled": True, **demo}],
    }
