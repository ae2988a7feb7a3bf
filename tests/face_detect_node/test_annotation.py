"""Annotated frames: boxes drawn on a copy, labels only from what is known (never names)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_detect_node.annotation import BOX_COLOR, AnnotatedFrameWriter, StampPairer, annotate, face_label
from face_detect_node.detection import detect_faces
from face_detect_node.detectors import make_detector

FRAME = FrameRef("cam0", 1)


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({}, ""),
        ({"face_id": 7}, "id 7"),
        ({"face_id": 0, "age": 34.6, "gender": "female"}, "id 0 35y female"),
        ({"age": 8.2}, "8y"),
        ({"gender": "male", "age": math.nan}, "male"),
    ],
)
def test_face_label(fields: dict, label: str) -> None:
    assert face_label(Face(index=0, box=Box(0, 0, 10, 10), score=1.0, **fields)) == label


def test_annotate_draws_each_box_on_a_copy(face_data: Path) -> None:
    image = cv2.imread(str(face_data / "detection" / "dlib_faces" / "2008_001322.jpg"))
    original = image.copy()
    frame_faces = detect_faces(image, make_detector("hog"), FRAME)
    assert frame_faces.faces
    out = annotate(image, frame_faces)
    np.testing.assert_array_equal(image, original)
    assert out.shape == image.shape and out.dtype == image.dtype
    for face in frame_faces.faces:
        b = face.box
        assert tuple(out[b.y, b.x + b.w // 2]) == BOX_COLOR  # top edge
        assert tuple(out[b.y + b.h - 1, b.x + b.w // 2]) == BOX_COLOR  # bottom edge
        # The face inside the box is left as it was.
        np.testing.assert_array_equal(
            out[b.y + b.h // 2, b.x + b.w // 2], image[b.y + b.h // 2, b.x + b.w // 2]
        )


@pytest.mark.parametrize("box", [Box(40, 60, 50, 50), Box(0, 0, 50, 50)])  # room above / at the top edge
def test_label_is_drawn_only_when_known(box: Box) -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    unknown = annotate(image, FrameFaces(FRAME, [Face(0, box, 1.0)]))
    labelled = annotate(image, FrameFaces(FRAME, [Face(0, box, 1.0, face_id=3, age=30.0, gender="male")]))
    assert (labelled != unknown).any()
    assert np.count_nonzero(labelled) > np.count_nonzero(unknown)


def test_faces_leaving_the_frame_are_drawn_without_error() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    faces = FrameFaces(FRAME, [Face(0, Box(-20, 80, 60, 60), 1.0, face_id=1)])
    assert annotate(image, faces).any()


def test_annotated_frames_are_written_once_per_frame(tmp_path) -> None:
    writer = AnnotatedFrameWriter(tmp_path / "annotated")
    image = np.full((36, 64, 3), 90, np.uint8)
    first = writer.write(image, FrameRef("cam1", 5))
    again = writer.write(image, FrameRef("cam1", 5))  # a replayed frame overwrites its file
    writer.write(image, FrameRef("cam1", 6))
    assert first == again and first.name == "cam1_5.jpg"
    assert sorted(p.name for p in (tmp_path / "annotated").iterdir()) == ["cam1_5.jpg", "cam1_6.jpg"]
    assert cv2.imread(str(first)).shape == (36, 64, 3)


def test_unwritable_folder_is_an_os_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        AnnotatedFrameWriter(blocker).write(np.zeros((4, 4, 3), np.uint8), FrameRef("c", 1))


def test_stamp_pairer_pairs_frames_and_faces_in_either_order() -> None:
    pairer: StampPairer[str, str] = StampPairer(max_wait_ns=100)
    assert pairer.add_frame(10, "frame10") is None
    assert pairer.add_frame(20, "frame20") is None
    assert pairer.add_faces(20, "faces20") == "frame20"
    assert pairer.add_faces(30, "faces30") is None  # faces first ...
    assert pairer.add_frame(30, "frame30") == "faces30"  # ... then their frame
    assert pairer.add_faces(10, "faces10") == "frame10"
    assert pairer.unpaired == 0


def test_stamp_pairer_drops_what_waited_too_long() -> None:
    pairer: StampPairer[str, str] = StampPairer(max_wait_ns=100)
    pairer.add_frame(0, "lost frame")  # its faces never come
    pairer.add_faces(50, "lost faces")  # its frame never comes
    pairer.add_frame(200, "late")
    assert pairer.unpaired == 2
    assert pairer.add_faces(0, "too late") is None  # the frame is gone
