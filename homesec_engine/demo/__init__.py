"""The first-run demo: real footage of people served as a looping RTSP camera on loopback.

footage.py makes the file (once, from Debian's sample video, run by ./scripts/run), feed.py
serves it to the embedded default's demo camera through rtsp_server.py, so the first run goes
through the real `rtsp` source, the shipped detector, live events, tracking and the restream.
Without the footage the demo camera is the synthetic scene (sources/demo.py).
"""
