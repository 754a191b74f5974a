"""The embedded default: runs with no config file and no hardware.

SQLite and clips under ./data, the demo camera, the API and panel on 127.0.0.1:8080.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("data")


def embedded_default(data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, Any]:
    return {
        "server": {"host": "127.0.0.1", "port": 8080},
        "storage": {"backend": "local", "path": str(data_dir / "clips")},
        "state": {"url": f"sqlite:///{data_dir / 'homesec.db'}",
                  "outbox_path": str(data_dir / "outbox")},
        "cameras": [
            {"name": "demo", "enabled": True, "source_backend": "demo",
             "source_config": {}},  # DemoSourceConfig's defaults: one place states them
        ],
    }
