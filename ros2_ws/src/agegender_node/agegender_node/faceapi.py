"""face-api.js's age/gender network (``AgeGenderNet``) rebuilt as plain ONNX from its TF.js weights.

The network is a small Xception ("TinyXception", two middle blocks) on 112x112 RGB faces,
``(pixel - channel mean) / 256``, NCHW, then global average pooling and two dense heads: age as a
regression (one value, years) and gender as two logits (column 0 = male, column 1 = female). The
layers follow face-api.js (MIT, ``src/ageGenderNet`` and ``src/xception``): TF "same" padding
(``SAME_UPPER`` in ONNX), separable convolutions as a depthwise then a pointwise ``Conv``, and in
a reduction block a 3x3/2 max pool plus a strided 1x1 "expansion" shortcut.

Weights: ``@vladmandic/face-api`` (npm, MIT) ships them uint8-quantised (430 kB). face-api.js's
author trained them on UTKFace, FG-NET, ChaLearn LAP, IMDB-WIKI, CACD, MegaAge and MegaAge-Asian,
data sets for research use only, so the backend is research-only like the IMDB-WIKI WideResNet;
and its UTKFace figures are measured on faces it may have been trained on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

INPUT_SIZE = 112
INPUT_MEAN_RGB = (122.782, 117.001, 104.298)
INPUT_SCALE = 256.0
MIDDLE_BLOCKS = 2


def build_onnx(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The network as ONNX (opset 13): ``images`` (N, 3, 112, 112) -> ``age`` (N, 1), ``p_gender`` (N, 2)."""
    from identity_node.model_files import OnnxGraphParts
    from onnx import TensorProto, checker, helper

    graph_parts = OnnxGraphParts()  # weights are float32 as read_weights gives them
    nodes, initializers = graph_parts.nodes, graph_parts.initializers
    constant, node = graph_parts.constant, graph_parts.node

    def relu(x: str) -> str:
        return node("Relu", [x], "relu")

    def conv(x: str, prefix: str, stride: int) -> str:
        filters = weights[f"{prefix}/filters"]  # HWIO
        return node(
            "Conv",
            [x, constant(filters.transpose(3, 2, 0, 1), "w"), constant(weights[f"{prefix}/bias"], "b")],
            "conv",
            strides=[stride, stride],
            kernel_shape=list(filters.shape[:2]),
            auto_pad="SAME_UPPER",
        )

    def separable(x: str, prefix: str) -> str:
        depthwise = weights[f"{prefix}/depthwise_filter"]  # H, W, C, 1
        y = node(
            "Conv",
            [x, constant(depthwise.transpose(2, 3, 0, 1), "dw")],
            "depthwise",
            group=depthwise.shape[2],
            kernel_shape=list(depthwise.shape[:2]),
            auto_pad="SAME_UPPER",
        )
        pointwise = weights[f"{prefix}/pointwise_filter"]  # 1, 1, C_in, C_out
        return node(
            "Conv",
            [y, constant(pointwise.transpose(3, 2, 0, 1), "pw"), constant(weights[f"{prefix}/bias"], "b")],
            "pointwise",
            kernel_shape=[1, 1],
        )

    def reduction_block(x: str, prefix: str, activate_input: bool = True) -> str:
        out = separable(relu(x) if activate_input else x, f"{prefix}/separable_conv0")
        out = separable(relu(out), f"{prefix}/separable_conv1")
        out = node("MaxPool", [out], "maxpool", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
        return node("Add", [out, conv(x, f"{prefix}/expansion_conv", 2)], "add")

    def main_block(x: str, prefix: str) -> str:
        out = x
        for i in range(3):
            out = separable(relu(out), f"{prefix}/separable_conv{i}")
        return node("Add", [out, x], "add")

    x = relu(conv("images", "entry_flow/conv_in", 2))
    x = reduction_block(x, "entry_flow/reduction_block_0", activate_input=False)
    x = reduction_block(x, "entry_flow/reduction_block_1")
    for i in range(MIDDLE_BLOCKS):
        x = main_block(x, f"middle_flow/main_block_{i}")
    x = reduction_block(x, "exit_flow/reduction_block")
    x = relu(separable(x, "exit_flow/separable_conv"))
    pooled = node("Flatten", [node("GlobalAveragePool", [x], "gap")], "flat")

    def dense(head: str) -> str:
        return node(
            "Gemm",
            [
                pooled,
                constant(weights[f"fc/{head}/weights"], "fc"),
                constant(weights[f"fc/{head}/bias"], "b"),
            ],
            head,
        )

    nodes.append(helper.make_node("Identity", [dense("age")], ["age"]))
    nodes.append(helper.make_node("Softmax", [dense("gender")], ["p_gender"], axis=1))
    graph = helper.make_graph(
        nodes,
        "faceapi_age_gender",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE])],
        [
            helper.make_tensor_value_info("age", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("p_gender", TensorProto.FLOAT, ["N", 2]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # what the pinned onnxruntime reads
    checker.check_model(model)
    return model
