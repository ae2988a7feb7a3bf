"""The seed's age/gender network: a WideResNet-16-8 on 64x64 BGR faces, trained on IMDB-WIKI.

The architecture follows yu4u/age-gender-estimation (MIT), itself after Zagoruyko & Komodakis'
Wide Residual Networks: pre-activation basic blocks, three stages of ``(depth - 4) / 6`` blocks,
then two softmax heads on the flattened features, gender (2 classes, column 0 = female) and age
(101 classes, 0..100 years). The published weights (``weights.28-3.73.hdf5``, Keras 2 HDF5)
carry no layer names we can rely on, so ``load_weights`` matches layers by creation order: the
layers below are created in exactly the order of the original code (in a projecting block the
two 3x3 convolutions come before the 1x1 shortcut).

TensorFlow/Keras is imported inside the functions: the ONNX backend and the tests of pure logic
must not pay TensorFlow's import time (seconds) or its threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

IMAGE_SIZE = 64
DEPTH = 16
WIDTH = 8
AGE_CLASSES = 101
#: Every convolution and dense layer of the original is bias-free (BatchNorm follows).
_USE_BIAS = False


def build_wideresnet(depth: int = DEPTH, width: int = WIDTH, image_size: int = IMAGE_SIZE) -> keras.Model:
    """The untrained network; outputs ``[p_gender (N, 2), p_age (N, 101)]``."""
    import keras
    from keras import layers

    if (depth - 4) % 6:
        raise ValueError(f"WideResNet depth must be 6n + 4, got {depth}")
    blocks_per_stage = (depth - 4) // 6

    def conv(filters: int, kernel: int, stride: int) -> layers.Layer:
        return layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=_USE_BIAS)

    def bn_relu(x):
        return layers.Activation("relu")(layers.BatchNormalization(axis=-1)(x))

    def basic_block(x, in_planes: int, out_planes: int, stride: int):
        # A projecting block pre-activates once and feeds both paths; an identity block keeps
        # the raw input for the shortcut.
        if in_planes != out_planes:
            x = bn_relu(x)
            residual = conv(out_planes, 3, stride)(x)
        else:
            residual = conv(out_planes, 3, stride)(bn_relu(x))
        residual = conv(out_planes, 3, 1)(bn_relu(residual))
        shortcut = conv(out_planes, 1, stride)(x) if in_planes != out_planes else x
        return layers.Add()([residual, shortcut])

    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = conv(16, 3, 1)(inputs)
    planes = 16
    for stage_planes, stride in ((16 * width, 1), (32 * width, 2), (64 * width, 2)):
        x = basic_block(x, planes, stage_planes, stride)
        for _ in range(blocks_per_stage - 1):
            x = basic_block(x, stage_planes, stage_planes, 1)
        planes = stage_planes
    x = bn_relu(x)
    x = layers.AveragePooling2D(pool_size=8, strides=1, padding="same")(x)
    x = layers.Flatten()(x)
    p_gender = layers.Dense(2, activation="softmax", use_bias=_USE_BIAS, name="pred_gender")(x)
    p_age = layers.Dense(AGE_CLASSES, activation="softmax", use_bias=_USE_BIAS, name="pred_age")(x)
    return keras.Model(inputs=inputs, outputs=[p_gender, p_age], name=f"wideresnet_{depth}_{width}")


def load_wideresnet(weights_h5: Path) -> keras.Model:
    """The network with the IMDB-WIKI weights loaded (by layer order, see module docstring)."""
    model = build_wideresnet()
    model.load_weights(str(weights_h5))
    return model


def export_onnx(weights_h5: Path, onnx_path: Path, opset: int = 17) -> None:
    """Convert the Keras reference to ONNX (dynamic batch) with tf2onnx; runs once at set-up."""
    import tensorflow as tf
    import tf2onnx

    model = load_wideresnet(weights_h5)
    spec = (tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 3), tf.float32, name="images"),)

    @tf.function(input_signature=spec)
    def forward(images):
        p_gender, p_age = model(images, training=False)
        return {"p_gender": p_gender, "p_age": p_age}

    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    partial = onnx_path.with_suffix(".onnx.partial")
    tf2onnx.convert.from_function(forward, input_signature=spec, opset=opset, output_path=str(partial))
    partial.replace(onnx_path)
