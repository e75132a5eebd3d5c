"""Small but real ONNX detectors with the interface of the SSD-style face detectors.

When the real models are not at hand (a clone without ../shared), examples and tests build
these instead: same input (``input``: 1x3xHxW float) and outputs (``scores``: 1xAxC after a
softmax, ``boxes``: 1xAx4 in [0, 1]), a few convolutions, deterministic weights from a seed.
They run in ONNX Runtime and partition like any other model; their detections mean nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def build_detector(path: Path, *, height: int = 480, width: int = 640, anchors: int = 17640,
                   classes: int = 2, seed: int = 0) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * 0.1).astype(np.float32), name)

    features = 8
    per_anchor = classes + 4
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], strides=[4, 4],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], strides=[4, 4],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["head"]),
        helper.make_node("Split", ["head", "split_sizes"], ["raw_scores", "raw_boxes"], axis=1),
        helper.make_node("Reshape", ["raw_scores", "scores_shape"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=2),
        helper.make_node("Reshape", ["raw_boxes", "boxes_shape"], ["box_logits"]),
        helper.make_node("Sigmoid", ["box_logits"], ["boxes"]),
    ]
    initializers = [
        weight("w1", 4, 3, 3, 3), weight("b1", 4),
        weight("w2", features, 4, 3, 3), weight("b2", features),
        weight("w3", features, anchors * per_anchor), weight("b3", anchors * per_anchor),
        numpy_helper.from_array(np.array([anchors * classes, anchors * 4], np.int64),
                                "split_sizes"),
        numpy_helper.from_array(np.array([1, anchors, classes], np.int64), "scores_shape"),
        numpy_helper.from_array(np.array([1, anchors, 4], np.int64), "boxes_shape"),
    ]
    graph = helper.make_graph(
        nodes, "synthetic_detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, anchors, classes]),
         helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, anchors, 4])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="aisprint-gitops synthetic")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
