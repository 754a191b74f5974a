"""HomeSec engine: cameras -> clips -> object filter -> VLM -> alert policy -> notifiers."""

__version__ = "0.1.0"
