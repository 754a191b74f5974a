"""What happened on a camera, between its producers (the live watch, the clip pipeline) and
its outlets (state, the event hub, notifiers): ports.py (what the event owner needs of the
pipeline, so neither imports the other) and summary.py (the camera's last-alert summary,
built once: the API serves it, the alert carries it to the integration)."""
