"""Offsite upload throughput to a local S3 server: OpenDAL (what the engine uses) against
obstore and aiobotocore, the other candidates.

    .venvs/newest/bin/python bench/offsite.py [--clips 20] [--size-mb 8] [--runs 3]

Starts moto's S3 server as a separate process on loopback (so its CPU is not counted),
writes `--clips` random clips of `--size-mb`, and uploads them one after another with each
library, `--runs` times. Prints MB/s (wall) and the client's CPU seconds per 100 MB (this
process's CPU time: the library's own cost). A library that is not installed is skipped
(obstore and aiobotocore are not dependencies; install them to compare). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY_ID, SECRET, REGION = "bench-key", "bench-secret", "us-east-1"

Uploader = Callable[[Path, str], Awaitable[None]]
CLOSERS: list[Callable[[], Awaitable[object]]] = []  # clients to close at the end


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto server did not start")


async def opendal_uploader(endpoint: str, bucket: str) -> Uploader:
    from homesec_engine.offsite import OffsiteTarget

    target = OffsiteTarget({"backend": "s3", "endpoint": endpoint, "bucket": bucket,
                            "region": REGION, "root": "opendal",
                            "access_key_id_env": "K", "secret_access_key_env": "S"},
                           {"K": KEY_ID, "S": SECRET})

    async def upload(path: Path, key: str) -> None:
        await target.upload(path, key)

    return upload


async def obstore_uploader(endpoint: str, bucket: str) -> Uploader:
    import obstore
    from obstore.store import S3Store

    store = S3Store(bucket, endpoint=endpoint, region=REGION, access_key_id=KEY_ID,
                    secret_access_key=SECRET, client_options={"allow_http": True})

    async def upload(path: Path, key: str) -> None:
        await obstore.put_async(store, f"obstore/{key}", path)

    return upload


async def aiobotocore_uploader(endpoint: str, bucket: str) -> Uploader:
    from aiobotocore.session import get_session

    context = get_session().create_client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET)
    client = await context.__aenter__()
    CLOSERS.append(lambda: context.__aexit__(None, None, None))

    async def upload(path: Path, key: str) -> None:
        data = await asyncio.to_thread(path.read_bytes)
        await client.put_object(Bucket=bucket, Key=f"aiobotocore/{key}", Body=data)

    return upload


LIBRARIES: dict[str, Callable[[str, str], Awaitable[Uploader]]] = {
    "opendal": opendal_uploader, "obstore": obstore_uploader,
    "aiobotocore": aiobotocore_uploader,
}


async def run_once(upload: Uploader, clips: list[Path]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for n, clip in enumerate(clips):
        await upload(clip, f"clip-{n}.mp4")
    return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--size-mb", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    moto = start_moto(port)
    endpoint, bucket = f"http://127.0.0.1:{port}", "bench-clips"
    try:
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                     aws_secret_access_key=SECRET).create_bucket(Bucket=bucket)
        with tempfile.TemporaryDirectory() as tmp:
            clips = []
            for n in range(args.clips):
                path = Path(tmp) / f"clip-{n}.mp4"
                path.write_bytes(os.urandom(int(args.size_mb * 1_000_000)))
                clips.append(path)
            total_mb = args.clips * args.size_mb
            print(f"{args.clips} clips of {args.size_mb} MB to moto's S3 server on loopback; "
                  f"load average {os.getloadavg()[0]:.2f}")
            for name, make in LIBRARIES.items():
                try:
                    upload = await make(endpoint, bucket)
                except ImportError:
                    print(f"{name:12s} not installed, skipped")
                    continue
                rates, cpus = [], []
                for _ in range(args.runs):
                    wall, cpu = await run_once(upload, clips)
                    rates.append(total_mb / wall)
                    cpus.append(cpu * 100 / total_mb)
                print(f"{name:12s} {statistics.median(rates):7.1f} MB/s (runs "
                      f"{', '.join(f'{r:.1f}' for r in rates)}), client CPU "
                      f"{statistics.median(cpus):.2f} s per 100 MB")
    finally:
        for close in CLOSERS:
            await close()
        moto.terminate()
        moto.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
