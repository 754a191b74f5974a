"""Fill in attributes TensorFlow needs that some TFJS graph exports leave out.

Fused convolutions and matmuls lack `TArgs` (one type per extra argument) and TopKV2 lacks
`index_type` (int32 by default); TensorFlow refuses to import such a graph.
Usage: fix-tfjs-graph.py model.json fixed.json (weights stay where model.json points).
"""

import json
import sys

FUSED = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")

model = json.load(open(sys.argv[1], encoding="utf-8"))
nodes = list(model["modelTopology"]["node"])
for function in model["modelTopology"].get("library", {}).get("function", []):
    nodes += function.get("nodeDef", [])
for node in nodes:
    attrs = node.setdefault("attr", {})
    if node["op"] in FUSED and "TArgs" not in attrs:
        count = int(attrs.get("num_args", {}).get("i", 0))
        attrs["TArgs"] = {"list": {"type": [attrs.get("T", {}).get("type", "DT_FLOAT")] * count}}
    if node["op"] == "TopKV2" and "index_type" not in attrs:
        attrs["index_type"] = {"type": "DT_INT32"}
json.dump(model, open(sys.argv[2], "w", encoding="utf-8"))
