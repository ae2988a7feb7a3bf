"""The descriptors on real faces: dlib's own reference path, the ONNX port against it, batching,
input checks."""

from __future__ import annotations

from pathlib import Path

import cv2
import dlib
import face_recognition_models
import numpy as np
import pytest
from face_common.faces import Box
from faces_from_images import largest_face_frame
from identity_node.descriptor import (
    DESCRIPTOR_SIZE,
    DlibResNetDescriptor,
    DlibResNetOnnxDescriptor,
    check_face_input,
    make_descriptor,
)
from identity_node.model_files import ONNX_FILE, read_weights

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def onnx_descriptor() -> DlibResNetOnnxDescriptor:
    if not (MODEL_DIR / ONNX_FILE).is_file():
        pytest.fail(f"{ONNX_FILE} not in {MODEL_DIR}: run scripts/fetch_models.sh first")
    return DlibResNetOnnxDescriptor(model_dir=MODEL_DIR)


@pytest.fixture(scope="module")
def two_faces(face_data: Path, identity_labels: list[dict[str, str]]) -> list[tuple[np.ndarray, Box]]:
    """Largest faces of the first two labelled images, as (crop, box in crop)."""
    faces = [largest_face_frame(face_data / "identity" / row["path"]).faces[0] for row in identity_labels[:2]]
    return [(face.crop, face.box_in_crop()) for face in faces]


def test_matches_dlibs_reference_descriptor_on_the_whole_crop(descriptor, two_faces):
    """Our chip + batch path must give what dlib computes from the image and landmarks itself."""
    crop, box = two_faces[0]
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    landmarks = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    network = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    shape = landmarks(rgb, dlib.rectangle(box.x, box.y, box.x + box.w - 1, box.y + box.h - 1))
    reference = np.asarray(network.compute_face_descriptor(rgb, shape, 0))
    np.testing.assert_allclose(descriptor.describe(crop, box), reference, atol=1e-5)


def test_batch_equals_one_by_one_and_is_deterministic(descriptor, two_faces):
    batch = descriptor.describe_many(two_faces)
    assert batch.shape == (2, DESCRIPTOR_SIZE)
    assert batch.dtype == np.float32
    for row, (crop, box) in zip(batch, two_faces, strict=True):
        np.testing.assert_allclose(row, descriptor.describe(crop, box), atol=1e-6)
    assert descriptor.describe_many([]).shape == (0, DESCRIPTOR_SIZE)


def test_colour_order_matters(descriptor, two_faces):
    """dlib wants RGB: feeding the BGR crop as if it were RGB moves the descriptor noticeably."""
    crop, box = two_faces[0]
    swapped = np.ascontiguousarray(crop[:, :, ::-1])
    assert np.linalg.norm(descriptor.describe(crop, box) - descriptor.describe(swapped, box)) > 0.02


@pytest.mark.parametrize(
    ("crop", "box", "message"),
    [
        (np.zeros((40, 40, 3), np.float32), Box(5, 5, 30, 30), "uint8"),
        (np.zeros((40, 40), np.uint8), Box(5, 5, 30, 30), "H x W x 3"),
        (np.zeros((40, 40, 4), np.uint8), Box(5, 5, 30, 30), "H x W x 3"),
        (np.zeros((40, 40, 3), np.uint8), Box(5, 5, 0, 30), "empty"),
        (np.zeros((40, 40, 3), np.uint8), Box(40, 5, 10, 10), "outside"),
        (np.zeros((40, 40, 3), np.uint8), Box(-20, -20, 20, 20), "outside"),
    ],
)
def test_bad_input_is_refused_with_a_reason(descriptor, crop: np.ndarray, box: Box, message: str):
    with pytest.raises(ValueError, match=message):
        check_face_input(crop, box)
    with pytest.raises(ValueError, match=message):
        descriptor.describe(crop, box)


def test_onnx_port_agrees_with_dlib(descriptor, onnx_descriptor, two_faces):
    """Same network, uint8-quantised weights: each vector moves a little, distances hardly at all."""
    reference = descriptor.describe_many(two_faces)
    ported = onnx_descriptor.describe_many(two_faces)
    assert ported.shape == (2, DESCRIPTOR_SIZE) and ported.dtype == np.float32
    assert np.linalg.norm(reference - ported, axis=1).max() < 0.08
    pair_reference = np.linalg.norm(reference[0] - reference[1])
    pair_ported = np.linalg.norm(ported[0] - ported[1])
    assert abs(pair_reference - pair_ported) < 0.02


def test_onnx_batch_equals_one_by_one(onnx_descriptor, two_faces):
    batch = onnx_descriptor.describe_many(two_faces)
    for row, (crop, box) in zip(batch, two_faces, strict=True):
        np.testing.assert_allclose(row, onnx_descriptor.describe(crop, box), atol=1e-5)
    assert onnx_descriptor.describe_many([]).shape == (0, DESCRIPTOR_SIZE)
    with pytest.raises(ValueError, match="outside"):
        onnx_descriptor.describe(two_faces[0][0], Box(-20, -20, 20, 20))


def test_onnx_backend_needs_its_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"fetch_models\.sh"):
        make_descriptor("dlib_resnet_onnx", model_dir=tmp_path)
    with pytest.raises(ValueError, match="num_jitters"):
        make_descriptor("dlib_resnet_onnx", num_jitters=1, model_dir=tmp_path)


def test_tfjs_weights_are_dequantised_in_manifest_order():
    manifest = [
        {
            "weights": [
                {
                    "name": "q",
                    "shape": [2, 2],
                    "dtype": "float32",
                    "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0},
                },
                {"name": "f", "shape": [2], "dtype": "float32"},
            ]
        }
    ]
    data = bytes([0, 1, 2, 255]) + np.array([3.5, -7.0], np.float32).tobytes()
    weights = read_weights(manifest, data)
    np.testing.assert_array_equal(weights["q"], [[-1.0, -0.5], [0.0, 126.5]])
    np.testing.assert_array_equal(weights["f"], [3.5, -7.0])
    with pytest.raises(ValueError, match="manifest covers"):
        read_weights(manifest, data + b"\0")


def test_backend_is_chosen_by_name(onnx_descriptor):
    assert isinstance(make_descriptor("dlib_resnet"), DlibResNetDescriptor)
    assert isinstance(make_descriptor("dlib_resnet_onnx", model_dir=MODEL_DIR), DlibResNetOnnxDescriptor)
    with pytest.raises(ValueError, match="dlib_resnet"):
        make_descriptor("facenet")
    with pytest.raises(ValueError, match="num_jitters"):
        make_descriptor("dlib_resnet", num_jitters=-1)
