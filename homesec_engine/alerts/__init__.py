"""What happened on a camera, between its producers (the live watch, the clip pipeline) and
its outlets (state, the event hub, notifiers): event.py (the typed event record, one
constructor per source, one builder per outgoing shape), owner.py (CameraEvents: the one
writer of a clip's event columns, one alert per event) and summary.py (the camera's
last-alert summary, built once: the API serves it, alerts and ended events carry it to the
integration)."""
