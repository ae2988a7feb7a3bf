"""The dlib descriptor on real faces: dlib's own reference path, batching, input checks."""

from __future__ import annotations

from pathlib import Path

import cv2
import dlib
import face_recognition_models
import numpy as np
import pytest
from face_common.faces import Box
from faces_from_images import largest_face_frame
from identity_node.descriptor import DESCRIPTOR_SIZE, DlibResNetDescriptor, check_face_input, make_descriptor


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


def test_backend_is_chosen_by_name():
    assert isinstance(make_descriptor("dlib_resnet"), DlibResNetDescriptor)
    with pytest.raises(ValueError, match="dlib_resnet"):
        make_descriptor("facenet")
    with pytest.raises(ValueError, match="num_jitters"):
        make_descriptor("dlib_resnet", num_jitters=-1)
