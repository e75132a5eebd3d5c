"""Small ONNX models built with onnx.helper for the partitioner's tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _weight(rng, name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)


def branchy(seed: int = 0) -> onnx.ModelProto:
    """x -> conv0 -> relu0 (r0) -> two conv/relu branches -> add (s) -> add r0 (skip, t)
    -> conv3 (c3) -> reshape to (batch, -1) by shape arithmetic -> relu -> y."""
    rng = np.random.default_rng(seed)
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0", **conv),
        helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="conv1", **conv),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r0", "w2"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Add", ["r1", "r2"], ["s"], name="merge"),
        helper.make_node("Add", ["s", "r0"], ["t"], name="skip"),
        helper.make_node("Conv", ["t", "w3"], ["c3"], name="conv3", **conv),
        helper.make_node("Shape", ["c3"], ["shape"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="zero",
                         value=numpy_helper.from_array(np.array(0, dtype=np.int64))),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"], name="unsqueeze"),
        helper.make_node("Concat", ["batch1", "minus_one"], ["flat_shape"], name="concat",
                         axis=0),
        helper.make_node("Reshape", ["c3", "flat_shape"], ["flat"], name="reshape"),
        helper.make_node("Relu", ["flat"], ["y"], name="relu_out"),
    ]
    inits = [_weight(rng, "w0", 4, 3, 3, 3), _weight(rng, "w1", 4, 4, 3, 3),
             _weight(rng, "w2", 4, 4, 3, 3), _weight(rng, "w3", 2, 4, 3, 3),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "axes"),
             numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one")]
    graph = helper.make_graph(
        nodes, "branchy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 128])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="tests")


def two_inputs_two_outputs(seed: int = 1) -> onnx.ModelProto:
    """x -> conv -> relu (a) -> conv (b) -> add z (a second input, read late) -> relu -> out2;
    out1 = sigmoid(a) is an early model output."""
    rng = np.random.default_rng(seed)
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0", **conv),
        helper.make_node("Relu", ["c0"], ["a"], name="relu0"),
        helper.make_node("Sigmoid", ["a"], ["out1"], name="early"),
        helper.make_node("Conv", ["a", "w1"], ["b"], name="conv1", **conv),
        helper.make_node("Add", ["b", "z"], ["bz"], name="add_z"),
        helper.make_node("Relu", ["bz"], ["out2"], name="relu1"),
    ]
    graph = helper.make_graph(
        nodes, "two_in_two_out",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("out1", TensorProto.FLOAT, [1, 4, 6, 6]),
         helper.make_tensor_value_info("out2", TensorProto.FLOAT, [1, 4, 6, 6])],
        [_weight(rng, "w0", 4, 3, 3, 3), _weight(rng, "w1", 4, 4, 3, 3)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="tests")


def branchy_dynamic_unsorted() -> onnx.ModelProto:
    """``branchy`` with a symbolic batch dimension and its nodes listed in reverse order."""
    model = branchy()
    for value in (model.graph.input[0], model.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    nodes = list(model.graph.node)[::-1]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model
