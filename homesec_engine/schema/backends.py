"""The built-in backends of each plugin kind: the one declaration of their names.

The schema's `choices` for backend fields (and so the integration's selectors, the OpenAPI
enums and docs/configuration.md) come from here, and so do the names the plugin registry
(homesec_engine/plugins.py) knows before any backend module is imported. A third-party
plugin registered in the registry extends the engine-side validation (validate.py's backend
catalog); the generated choices stay the built-in ones.
"""

from __future__ import annotations

BUILTIN_BACKENDS: dict[str, list[str]] = {
    "source": ["rtsp", "local_folder", "demo"],
    "storage": ["local"],
    # `model_file` is the former name of `detector` with a model_path; still accepted.
    "filter": ["detector", "builtin", "model_file"],
    "analyzer": ["openai", "home_assistant"],
    "alert_policy": ["default"],
    "notifier": ["home_assistant", "mqtt"],
}

# The settings model of each built-in source (validates a camera's source_config).
SOURCE_SETTINGS_MODELS: dict[str, str] = {
    "rtsp": "RtspSourceConfig",
    "local_folder": "LocalFolderSourceConfig",
    "demo": "DemoSourceConfig",
}
