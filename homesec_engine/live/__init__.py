"""Alerts while it happens: detection on live frames and events with a start and an end.

`watch.LiveWatch` runs the camera's detector on frames the source already decodes for motion
(only while a clip is being recorded, a few per second, in its own thread so a slow or broken
detector never holds up recording); the camera events' owner (`alerts.owner.CameraEvents`)
turns what it confirms into one event per recording, keyed by the clip id: `started`,
`updated`, then `ended` once the clip is judged (or `interrupted` when the stream is lost),
stored with the clip and pushed.
"""
