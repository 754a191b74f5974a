#!/usr/bin/env bash
# Real photos bundled in PyPI wheels, for the detector tests and bench/detect.py: `pip download`
# of pinned wheels (no install, no dependencies), then only the named pictures are unpacked into
# the cache. Prints the folder (one sub-folder per wheel).
#   ultralytics: assets/bus.jpg (people by a bus), assets/zidane.jpg (two men)
#   imgaug:      quokka.jpg (an animal)
#   matplotlib:  mpl-data/sample_data/grace_hopper.jpg (a portrait)
#   scikit-learn: datasets/images/china.jpg, flower.jpg (no trigger class)
# Usage: fetch-pypi-photos.sh [cache-dir]
set -euo pipefail
CACHE="${1:-${HOMESEC_CACHE:-$HOME/.cache/homesec}}"
DEST="$CACHE/pypi-photos"
PY="${HOMESEC_FETCH_PYTHON:-python3}"
if [ -f "$DEST/.complete" ]; then echo "$DEST"; exit 0; fi
# One builder at a time (concurrent test runs and benches); the others wait for its result.
mkdir -p "$CACHE" && exec 9>"$DEST.lock" && flock 9
if [ -f "$DEST/.complete" ]; then echo "$DEST"; exit 0; fi
rm -rf "$DEST"
mkdir -p "$DEST/wheels"
# Pure-data use: the x86_64/CPython 3.11 wheels are fetched on every machine (only pictures are read).
"$PY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
  --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp -d "$DEST/wheels" \
  ultralytics==8.4.190 imgaug==0.4.0 matplotlib==3.11.2 scikit-learn==1.9.1 >&2
"$PY" - "$DEST" <<'PYEOF'
import sys, zipfile
from pathlib import Path

dest = Path(sys.argv[1])
wanted = {"ultralytics": ["ultralytics/assets/bus.jpg", "ultralytics/assets/zidane.jpg"],
          "imgaug": ["imgaug/quokka.jpg"],
          "matplotlib": ["matplotlib/mpl-data/sample_data/grace_hopper.jpg"],
          "scikit_learn": ["sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"]}
for wheel in sorted((dest / "wheels").glob("*.whl")):
    name = wheel.name.split("-")[0]
    with zipfile.ZipFile(wheel) as archive:
        for member in wanted[name]:
            (dest / name).mkdir(exist_ok=True)
            (dest / name / Path(member).name).write_bytes(archive.read(member))
PYEOF
rm -rf "$DEST/wheels"
touch "$DEST/.complete"
echo "$DEST"
