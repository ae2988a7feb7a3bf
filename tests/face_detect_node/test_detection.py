"""detect_faces: stable face indices, 40% crops zero-padded (never clipped) at borders; FaceFinder:
detection every k-th frame, tracks in between, scene changes, untracked slow sources."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.faces import Box, FrameRef
from face_detect_node.detection import DEFAULT_CROP_MARGIN, DetectionConfig, FaceFinder, detect_faces
from face_detect_node.detectors import make_detector

FRAME = FrameRef("cam0", 1_700_000_000_123_456_789)


@pytest.fixture(scope="module")
def group_photo(face_data: Path) -> np.ndarray:
    return cv2.imread(str(face_data / "detection" / "dlib_faces" / "2008_002079.jpg"))  # 6 faces


@pytest.fixture(scope="module")
def hog():
    return make_detector("hog")


def test_faces_carry_frame_box_score_and_crop(group_photo: np.ndarray, hog) -> None:
    result = detect_faces(group_photo, hog, FRAME)
    assert result.frame == FRAME
    assert len(result.faces) == 6
    for face in result.faces:
        assert face.crop_box == face.box.expanded(DEFAULT_CROP_MARGIN)
        assert face.crop.shape == (face.crop_box.h, face.crop_box.w, 3)
        assert face.crop.dtype == np.uint8
        inner = face.box_in_crop()
        b = face.box
        np.testing.assert_array_equal(
            face.crop[inner.y : inner.y + inner.h, inner.x : inner.x + inner.w],
            group_photo[b.y : b.y + b.h, b.x : b.x + b.w],
        )


def test_indices_run_left_to_right(group_photo: np.ndarray, hog) -> None:
    faces = detect_faces(group_photo, hog, FRAME).faces
    assert [f.index for f in faces] == list(range(len(faces)))
    assert [f.box.x for f in faces] == sorted(f.box.x for f in faces)


class ListedDetector:
    """Answers fixed detections in a given order, standing in for a backend's arbitrary order."""

    def __init__(self, detections: list[tuple[Box, float]]) -> None:
        self.detections = detections

    def detect(self, image_bgr: np.ndarray) -> list[tuple[Box, float]]:
        return list(self.detections)


def test_indices_do_not_depend_on_detector_order() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    found = [(Box(50, 10, 20, 20), 0.9), (Box(10, 60, 20, 20), 0.5), (Box(10, 5, 20, 20), 0.7)]
    expected = [Box(10, 5, 20, 20), Box(10, 60, 20, 20), Box(50, 10, 20, 20)]  # x, then y
    for order in (found, found[::-1], [found[1], found[2], found[0]]):
        faces = detect_faces(image, ListedDetector(order), FRAME).faces
        assert [f.box for f in faces] == expected
        assert [f.index for f in faces] == [0, 1, 2]


def test_crop_at_the_border_is_zero_padded_not_clipped(group_photo: np.ndarray, hog) -> None:
    """Cut the photo so that a real face touches the top-left corner: its margin falls outside."""
    leftmost = detect_faces(group_photo, hog, FRAME).faces[0].box
    cut = np.ascontiguousarray(group_photo[leftmost.y :, leftmost.x :])
    face = detect_faces(cut, hog, FRAME).faces[0]
    assert face.box.x < 10 and face.box.y < 10
    assert face.crop.shape[:2] == (face.crop_box.h, face.crop_box.w)  # full size: padded
    pad_x, pad_y = -face.crop_box.x, -face.crop_box.y
    assert pad_x > 0 and pad_y > 0
    assert not face.crop[:pad_y].any()
    assert not face.crop[:, :pad_x].any()
    assert face.crop[pad_y:, pad_x:].any()


@pytest.mark.parametrize("margin", [0.0, 0.1, 0.4])
def test_crop_margin_sets_crop_size(group_photo: np.ndarray, hog, margin: float) -> None:
    for face in detect_faces(group_photo, hog, FRAME, crop_margin=margin).faces:
        assert face.crop_box == face.box.expanded(margin)
        assert face.crop.shape[:2] == (face.crop_box.h, face.crop_box.w)


def test_frame_without_faces_gives_an_empty_list(hog) -> None:
    result = detect_faces(np.full((240, 320, 3), 127, np.uint8), hog, FRAME)
    assert result.faces == []
    assert result.frame == FRAME


class CountingDetector(ListedDetector):
    """Fixed detections, counting the frames it was run on."""

    def __init__(self, detections: list[tuple[Box, float]]) -> None:
        super().__init__(detections)
        self.calls = 0

    def detect(self, image_bgr: np.ndarray) -> list[tuple[Box, float]]:
        self.calls += 1
        return super().detect(image_bgr)


def finder_with(detector: CountingDetector, **config: object) -> FaceFinder:
    finder = FaceFinder(DetectionConfig(detector="haar", **config))
    finder.detector = detector  # the cadence and tracking are under test, not a model
    return finder


def test_finder_detects_every_kth_frame_and_carries_tracks_in_between() -> None:
    detector = CountingDetector([(Box(100, 100, 60, 60), 0.9)])
    finder = finder_with(detector, detect_every=3)
    image = np.full((360, 640, 3), 90, np.uint8)
    found = [finder.find(image, FrameRef("cam", i)) for i in range(7)]
    assert detector.calls == 3  # frames 0, 3 and 6
    assert [len(f.faces) for f in found] == [1] * 7
    assert {f.faces[0].track_id for f in found} == {1}
    detected = [not np.isnan(f.faces[0].score) for f in found]
    assert detected == [True, False, False, True, False, False, True]  # carried boxes: score NaN
    assert all(f.faces[0].crop is not None for f in found)


def test_a_scene_change_is_detected_at_once_and_ends_every_track() -> None:
    detector = CountingDetector([(Box(100, 100, 60, 60), 0.9)])
    finder = finder_with(detector, detect_every=3)
    dark, bright = np.full((360, 640, 3), 30, np.uint8), np.full((360, 640, 3), 200, np.uint8)
    before = finder.find(dark, FrameRef("cam", 0))
    after = finder.find(bright, FrameRef("cam", 1))  # a cut: not a detection frame by cadence
    assert detector.calls == 2 and finder.scene_changes == 1
    assert after.faces[0].track_id != before.faces[0].track_id  # the same place, another face
    assert not np.isnan(after.faces[0].score)


def test_slow_sources_are_not_tracked() -> None:
    """Frames further apart than a face can be followed (photos at 1 frame/s) are each detected
    and left untracked; so is every frame with tracking off (the seed's per-frame pipeline)."""
    image = np.full((360, 640, 3), 90, np.uint8)
    for config in ({"frame_rate": 1.0}, {"tracking": False}):
        detector = CountingDetector([(Box(100, 100, 60, 60), 0.9)])
        finder = finder_with(detector, detect_every=3, **config)
        found = [finder.find(image, FrameRef("cam", i)) for i in range(4)]
        assert detector.calls == 4
        assert {f.faces[0].track_id for f in found} == {-1}
