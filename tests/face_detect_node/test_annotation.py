"""Annotated frames: boxes drawn on a copy, labels only from what is known (never names); saved
frames named by the faces they show, erased per face ID, deleted past their age (fake clock)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
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


def shown(camera: str, stamp_ns: int, *faces: tuple[int, int]) -> FrameFaces:
    """A frame showing faces given as (face ID, track id)."""
    return FrameFaces(
        FrameRef(camera, stamp_ns),
        [Face(i, Box(0, 0, 4, 4), 1.0, face_id=f, track_id=t) for i, (f, t) in enumerate(faces)],
    )


def test_annotated_frames_are_written_once_per_frame_named_by_the_faces_they_show(tmp_path) -> None:
    writer = AnnotatedFrameWriter(tmp_path / "annotated")
    image = np.full((36, 64, 3), 90, np.uint8)
    first = writer.write(image, shown("cam1", 5, (3, 12), (UNKNOWN_FACE_ID, 13)))
    again = writer.write(image, shown("cam1", 5, (3, 12), (UNKNOWN_FACE_ID, 13)))  # a replay overwrites
    writer.write(image, shown("cam1", 6))
    assert first == again and first.name == "cam1_5_f3t12_fnt13.jpg"
    names = sorted(p.name for p in (tmp_path / "annotated").iterdir())
    assert names == ["cam1_5_f3t12_fnt13.jpg", "cam1_6.jpg"]
    assert cv2.imread(str(first)).shape == (36, 64, 3)
    assert sorted((f.camera_id, f.stamp_ns, f.faces) for f in writer.saved_frames()) == [
        ("cam1", 5, ((3, 12), (UNKNOWN_FACE_ID, 13))),
        ("cam1", 6, ()),
    ]


def test_erasing_a_face_deletes_the_frames_that_show_it_also_before_its_id_was_decided(tmp_path) -> None:
    writer = AnnotatedFrameWriter(tmp_path)
    image = np.zeros((8, 8, 3), np.uint8)
    frames = {
        "pending": shown("cam_2", 1, (UNKNOWN_FACE_ID, 4)),  # track 4 before it became ID 7
        "decided": shown("cam_2", 2, (7, 4), (8, 5)),
        "untracked": shown("cam_2", 3, (7, -1)),
        "other": shown("cam_2", 4, (8, 5)),
        "other camera, same track number": shown("cam3", 1, (UNKNOWN_FACE_ID, 4)),
    }
    paths = {what: writer.write(image, frame) for what, frame in frames.items()}
    (tmp_path / "notes.jpg").write_bytes(b"not an annotated frame")
    assert writer.erase_face(7) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [paths["other"].name, paths["other camera, same track number"].name, "notes.jpg"]
    )
    assert writer.erase_face(7) == 0


def test_frames_older_than_the_maximum_age_are_deleted(tmp_path) -> None:
    day_ns = 86_400 * 10**9
    now_ns = [30 * day_ns]
    writer = AnnotatedFrameWriter(tmp_path, max_age_s=7 * 86_400, clock_ns=lambda: now_ns[0])
    image = np.zeros((8, 8, 3), np.uint8)
    for day in (20, 25, 29):
        writer.write(image, shown("cam1", day * day_ns, (1, 1)))
    assert writer.purge_expired() == 1
    now_ns[0] += 5 * day_ns
    assert writer.purge_expired() == 1
    assert [f.stamp_ns for f in writer.saved_frames()] == [29 * day_ns]
    assert AnnotatedFrameWriter(tmp_path, clock_ns=lambda: now_ns[0]).purge_expired() == 0  # 0 days: keep


def test_unwritable_folder_is_an_os_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        AnnotatedFrameWriter(blocker).write(np.zeros((4, 4, 3), np.uint8), shown("c", 1))


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
