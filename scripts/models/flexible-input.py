"""Leave an ONNX detector's picture size open, so the engine can feed it a canvas that fits the
frame's shape (a 16:9 camera: 416x256 instead of 416x416) rather than padding a square.

The input's height and width become symbolic (the outputs' anchor counts follow them and must
already be); shapes inferred for the old fixed size are dropped; the nominal size (the graph's
old size, or WIDTHxHEIGHT when given) is kept in the model's metadata (`homesec.input_size`),
which the engine reads.
Usage: flexible-input.py in.onnx out.onnx [WIDTHxHEIGHT]
"""

import sys

import onnx

model = onnx.load(sys.argv[1])
graph = model.graph
dims = graph.input[0].type.tensor_type.shape.dim
nchw = dims[1].dim_value == 3
h_axis, w_axis = (2, 3) if nchw else (1, 2)
height, width = dims[h_axis].dim_value, dims[w_axis].dim_value
if not (height and width):
    sys.exit(f"{sys.argv[1]}: the picture size is already open")
dims[h_axis].dim_param, dims[w_axis].dim_param = "height", "width"
for output in graph.output:
    out_dims = output.type.tensor_type.shape.dim
    if len(out_dims) > 1 and out_dims[1].dim_value:
        sys.exit(f"{sys.argv[1]}: output {output.name} has a fixed size; its export is not "
                 "size-independent")
del graph.value_info[:]
entry = next((p for p in model.metadata_props if p.key == "homesec.input_size"), None)
entry = entry or model.metadata_props.add()
if len(sys.argv) > 3:
    width, height = (int(v) for v in sys.argv[3].lower().split("x"))
    if width % 32 or height % 32:
        sys.exit(f"nominal size {width}x{height}: both sides must be multiples of 32")
entry.key, entry.value = "homesec.input_size", f"{width}x{height}"
onnx.checker.check_model(model)
onnx.save(model, sys.argv[2])
print(f"{sys.argv[2]}: picture size open (nominal {width}x{height})")
