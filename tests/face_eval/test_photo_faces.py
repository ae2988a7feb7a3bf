"""The largest face of a labelled photo, or the whole image when none is found."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.faces import Box
from face_eval.photo_faces import PhotoFaceFinder
from face_eval.records import read_csv_rows


@pytest.fixture(scope="module")
def finder() -> PhotoFaceFinder:
    return PhotoFaceFinder("hog")


def test_a_photo_gives_its_largest_face_with_a_margin_crop(face_data: Path, finder: PhotoFaceFinder) -> None:
    row = read_csv_rows(face_data / "identity" / "labels.csv")[0]
    image = cv2.imread(str(face_data / "identity" / row["path"]))
    found = finder.largest_face(image)
    assert found is not None and found.detected
    face = found.face
    assert face.index == 0 and min(face.box.w, face.box.h) >= 24
    assert face.crop.shape[:2] == (face.crop_box.h, face.crop_box.w)
    assert face.crop_box == face.box.expanded(0.4)


def test_the_largest_of_several_faces_is_taken(face_data: Path, finder: PhotoFaceFinder) -> None:
    """Two photos side by side, one shrunk: the face of the full-size one wins."""
    row = read_csv_rows(face_data / "identity" / "labels.csv")[0]
    image = cv2.imread(str(face_data / "identity" / row["path"]))
    small = cv2.resize(image, None, fx=0.6, fy=0.6)
    canvas = np.zeros((image.shape[0], image.shape[1] + small.shape[1], 3), dtype=np.uint8)
    canvas[:, : small.shape[1]][: small.shape[0]] = small
    canvas[:, small.shape[1] :] = image
    alone = finder.largest_face(image).face.box
    found = finder.largest_face(canvas).face.box
    assert found.x >= small.shape[1]  # in the full-size half
    assert abs(found.w - alone.w) <= 0.1 * alone.w


def test_no_face_falls_back_to_the_whole_image_or_none(finder: PhotoFaceFinder) -> None:
    blank = np.full((120, 90, 3), 128, dtype=np.uint8)
    found = finder.largest_face(blank)
    assert found is not None and not found.detected
    assert found.face.box == Box(0, 0, 90, 120)
    assert found.face.crop.shape == (found.face.crop_box.h, found.face.crop_box.w, 3)
    assert finder.largest_face(blank, whole_image_fallback=False) is None
