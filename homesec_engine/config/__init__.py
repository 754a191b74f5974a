"""Config loading (YAML merge) and run-time changes (ConfigManager)."""

from .loader import ConfigError, ConfigFileError, merge, read_yaml
from .manager import (
    CameraExists,
    CameraNotFound,
    ChangeResult,
    ConfigManager,
    ConfigVersionConflict,
)

__all__ = [
    "CameraExists", "CameraNotFound", "ChangeResult", "ConfigError", "ConfigFileError",
    "ConfigManager", "ConfigVersionConflict", "merge", "read_yaml",
]
