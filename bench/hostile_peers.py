"""The API under a slow-client flood: descriptors, /health latency, how fast peers are shed.

    .venv/bin/python bench/hostile_peers.py [--nofile 256] [--flood 400] [--health 200]

Starts `homesec run` (embedded default: demo camera, SQLite) in a child process with its
descriptor limit lowered to `--nofile`, opens `--flood` connections from eight loopback
addresses that each send half a request head and then wait, and meanwhile measures
`--health` sequential GET /api/v1/health from 127.0.0.1. Prints the engine's descriptor count
(before, peak), connections refused at once, /health p50/p99 during the flood, the seconds
until every half-sent connection was closed by the engine, and the log's size. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nofile", type=int, default=256)
    parser.add_argument("--flood", type=int, default=400)
    parser.add_argument("--health", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="homesec-bench-"))
    port = _free_port()
    (work / "port.yaml").write_text(f"server:\n  port: {port}\n")
    log = open(work / "engine.log", "wb")  # noqa: SIM115 - closed at the end

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))

    proc = subprocess.Popen([sys.executable, "-m", "homesec_engine", "run",
                             "--embedded-default", "--config", "port.yaml"], cwd=work,
                            stdout=log, stderr=log, preexec_fn=limit)
    url = f"http://127.0.0.1:{port}/api/v1/health"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        before = _fds(proc.pid)
        peak = [before]
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _fds(proc.pid))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        socks, refused = [], 0
        flood_start = time.monotonic()
        for i in range(args.flood):
            sock = socket.socket()
            sock.bind((f"127.0.0.{2 + i % 8}", 0))
            sock.settimeout(2)
            try:
                sock.connect(("127.0.0.1", port))
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                refused += 1
            socks.append(sock)
        latencies = []
        for _ in range(args.health):
            started = time.perf_counter()
            urllib.request.urlopen(url, timeout=10).read()
            latencies.append((time.perf_counter() - started) * 1000)
        open_socks = list(socks)
        while open_socks and time.monotonic() - flood_start < 120:
            alive = []
            for sock in open_socks:
                try:
                    ready, _, _ = select.select([sock], [], [], 0)
                    if not ready or sock.recv(1024) != b"":
                        alive.append(sock)
                except OSError:
                    pass
            open_socks = alive
            time.sleep(0.2)
        shed_s = time.monotonic() - flood_start
        stop.set()
        watcher.join()
        for sock in socks:
            sock.close()
        latencies.sort()
        print(f"descriptor limit {args.nofile}: engine fds before {before}, peak {peak[0]}")
        print(f"flood {args.flood} half-sent connections: refused at once by the kernel/engine "
              f"{refused}, all closed by the engine after {shed_s:.1f} s "
              f"({len(open_socks)} still open)")
        print(f"/health during the flood: p50 {statistics.median(latencies):.2f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
        print(f"engine log: {(work / 'engine.log').stat().st_size} bytes; load average "
              f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
