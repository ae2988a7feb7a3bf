"""face-api.js's AgeGenderNet: the ONNX rebuild computes what face-api.js's TF.js code computes.

The reference below is face-api.js's forward pass (``src/xception/TinyXception.ts``,
``src/ageGenderNet/AgeGenderNet.ts``) written with TensorFlow's ops, which share TF.js's "same"
padding and layouts; both run on random weights of the real shapes, so a transposed filter or a
padding off by one pixel shows.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from agegender_node.faceapi import INPUT_SIZE, MIDDLE_BLOCKS, build_onnx


def _separable_shapes(prefix: str, channels_in: int, channels_out: int) -> dict[str, tuple[int, ...]]:
    return {
        f"{prefix}/depthwise_filter": (3, 3, channels_in, 1),
        f"{prefix}/pointwise_filter": (1, 1, channels_in, channels_out),
        f"{prefix}/bias": (channels_out,),
    }


def _reduction_shapes(prefix: str, channels_in: int, channels_out: int) -> dict[str, tuple[int, ...]]:
    return {
        **_separable_shapes(f"{prefix}/separable_conv0", channels_in, channels_out),
        **_separable_shapes(f"{prefix}/separable_conv1", channels_out, channels_out),
        f"{prefix}/expansion_conv/filters": (1, 1, channels_in, channels_out),
        f"{prefix}/expansion_conv/bias": (channels_out,),
    }


def _weight_shapes() -> dict[str, tuple[int, ...]]:
    """The shapes of face-api.js's ``age_gender_model-weights_manifest.json``."""
    shapes = {"entry_flow/conv_in/filters": (3, 3, 3, 32), "entry_flow/conv_in/bias": (32,)}
    shapes |= _reduction_shapes("entry_flow/reduction_block_0", 32, 64)
    shapes |= _reduction_shapes("entry_flow/reduction_block_1", 64, 128)
    for block in range(MIDDLE_BLOCKS):
        for conv in range(3):
            shapes |= _separable_shapes(f"middle_flow/main_block_{block}/separable_conv{conv}", 128, 128)
    shapes |= _reduction_shapes("exit_flow/reduction_block", 128, 256)
    shapes |= _separable_shapes("exit_flow/separable_conv", 256, 512)
    return shapes | {
        "fc/age/weights": (512, 1),
        "fc/age/bias": (1,),
        "fc/gender/weights": (512, 2),
        "fc/gender/bias": (2,),
    }


def _face_api_forward(
    weights: dict[str, np.ndarray], images_nhwc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """face-api.js's ``AgeGenderNet.forwardInput`` after normalisation: (age (N,), p_gender (N, 2))."""
    import tensorflow as tf

    def conv(x, prefix: str, stride: int):
        return tf.nn.conv2d(x, weights[f"{prefix}/filters"], stride, "SAME") + weights[f"{prefix}/bias"]

    def separable(x, prefix: str):
        depthwise, pointwise = weights[f"{prefix}/depthwise_filter"], weights[f"{prefix}/pointwise_filter"]
        return (
            tf.nn.separable_conv2d(x, depthwise, pointwise, [1, 1, 1, 1], "SAME") + weights[f"{prefix}/bias"]
        )

    def reduction_block(x, prefix: str, activate_input: bool = True):
        out = separable(tf.nn.relu(x) if activate_input else x, f"{prefix}/separable_conv0")
        out = separable(tf.nn.relu(out), f"{prefix}/separable_conv1")
        return tf.nn.max_pool2d(out, 3, 2, "SAME") + conv(x, f"{prefix}/expansion_conv", 2)

    out = tf.nn.relu(conv(images_nhwc, "entry_flow/conv_in", 2))
    out = reduction_block(out, "entry_flow/reduction_block_0", activate_input=False)
    out = reduction_block(out, "entry_flow/reduction_block_1")
    for block in range(MIDDLE_BLOCKS):
        x = out
        for conv_index in range(3):
            out = separable(tf.nn.relu(out), f"middle_flow/main_block_{block}/separable_conv{conv_index}")
        out = out + x
    out = reduction_block(out, "exit_flow/reduction_block")
    out = tf.nn.relu(separable(out, "exit_flow/separable_conv"))
    pooled = tf.reshape(tf.nn.avg_pool2d(out, 7, 2, "VALID"), (out.shape[0], -1))
    age = pooled @ weights["fc/age/weights"] + weights["fc/age/bias"]
    gender = tf.nn.softmax(pooled @ weights["fc/gender/weights"] + weights["fc/gender/bias"])
    return age.numpy()[:, 0], gender.numpy()


@pytest.fixture(scope="module")
def random_weights() -> dict[str, np.ndarray]:
    """He-scaled filters (fan-in: all axes but the output's; 9 for a depthwise 3x3), so the
    activations keep their size through the 20-odd layers."""
    rng = np.random.default_rng(13)

    def fan_in(name: str, shape: tuple[int, ...]) -> int:
        return 9 if name.endswith("depthwise_filter") else int(np.prod(shape[:-1])) if len(shape) > 1 else 1

    return {
        name: (rng.standard_normal(shape) * np.sqrt(2 / fan_in(name, shape))).astype(np.float32)
        for name, shape in _weight_shapes().items()
    }


def test_onnx_rebuild_computes_what_face_api_computes(random_weights: dict[str, np.ndarray]) -> None:
    noise = np.random.default_rng(1).uniform(-0.1, 0.1, (3, INPUT_SIZE, INPUT_SIZE, 3))
    images = (noise + np.array([-0.4, 0.0, 0.4])[:, None, None, None]).astype(np.float32)
    session = ort.InferenceSession(
        build_onnx(random_weights).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    age, p_gender = session.run(["age", "p_gender"], {"images": images.transpose(0, 3, 1, 2).copy()})
    want_age, want_gender = _face_api_forward(random_weights, images)
    assert age.shape == (3, 1) and p_gender.shape == (3, 2)
    np.testing.assert_allclose(age[:, 0], want_age, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(p_gender, want_gender, atol=1e-5)
    assert np.ptp(want_age) > 1e-3, "random weights too small to tell inputs apart"
