"""Cut a CenterNet graph at its heads, so its picture size can be left open.

The TFJS CenterNet ends in a top-K whose constants name its 128x128 grid (a Reshape to
[16384, 4], a division by 128): it only works at 512x512. Everything before is convolutional.
This keeps the graph up to two size-independent outputs, decoded by the engine
(decoders.decode_centernet):
  heat  [1, H/4, W/4, 80]  class scores at each grid cell's local peak (3x3), zero elsewhere
  wh    [1, H/4, W/4, 4]   distances from the cell to the box's left, top, right and bottom
                           edges, in input pixels
Both as float32, whatever the weights are (a Cast, a no-op on a float32 graph).
Usage: centernet-heads.py in.onnx out.onnx (then flexible-input.py opens the picture size)
"""

import sys

import onnx
import onnx.utils
from onnx import TensorProto, helper

HEAT, WH = "tower_0/mul_1:0", "tower_0/wh"  # the peak-masked heat map and the box distances

source = onnx.load(sys.argv[1])
names = {o for node in source.graph.node for o in node.output}
missing = [n for n in (HEAT, WH) if n not in names]
if missing:
    sys.exit(f"{sys.argv[1]}: no {', '.join(missing)}; not the TFJS CenterNet this script knows")
cut = onnx.utils.Extractor(source).extract_model([source.graph.input[0].name], [HEAT, WH])
graph = cut.graph
del graph.output[:]
for tensor, name in ((HEAT, "heat"), (WH, "wh")):
    graph.node.append(helper.make_node("Cast", [tensor], [name], to=TensorProto.FLOAT))
    # The grid follows the picture size: [1, grid_height, grid_width, channels].
    channels = 80 if name == "heat" else 4
    graph.output.append(helper.make_tensor_value_info(
        name, TensorProto.FLOAT, [1, "grid_height", "grid_width", channels]))
model = helper.make_model(graph, opset_imports=source.opset_import,
                          producer_name=source.producer_name)
model.ir_version = source.ir_version
model.metadata_props.extend(source.metadata_props)
onnx.checker.check_model(model)
onnx.save(model, sys.argv[2])
print(f"{sys.argv[2]}: cut at the heads (heat, wh)")
