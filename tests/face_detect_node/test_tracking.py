"""IouTracker: overlap-based track ids, new ids for new faces, tracks that end."""

from __future__ import annotations

import pytest
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_detect_node.tracking import IouTracker


def frame(*boxes: Box) -> FrameFaces:
    return FrameFaces(FrameRef("cam", 0), [Face(index=i, box=b, score=1.0) for i, b in enumerate(boxes)])


def track_ids(tracker: IouTracker, *boxes: Box) -> list[int]:
    faces = frame(*boxes)
    assert tracker.track(faces) == []
    return [face.track_id for face in faces.faces]


A, B = Box(100, 100, 50, 50), Box(400, 100, 50, 50)


def test_moving_faces_keep_their_tracks_and_a_newcomer_gets_a_new_one() -> None:
    tracker = IouTracker()
    assert track_ids(tracker, A, B) == [1, 2]
    assert track_ids(tracker, Box(405, 102, 50, 50), Box(104, 98, 50, 50)) == [2, 1]  # order does not matter
    assert track_ids(tracker, Box(108, 96, 50, 50), Box(700, 300, 60, 60)) == [1, 3]


@pytest.mark.parametrize(("gap_frames", "same_track"), [(2, True), (3, False)])
def test_a_track_survives_max_missed_frames_only(gap_frames: int, same_track: bool) -> None:
    tracker = IouTracker(max_missed=2)
    (first,) = track_ids(tracker, A)
    for _ in range(gap_frames):
        assert track_ids(tracker) == []
    (again,) = track_ids(tracker, A)
    assert (again == first) is same_track


def test_low_overlap_starts_a_new_track() -> None:
    tracker = IouTracker(min_iou=0.5)
    assert track_ids(tracker, A) == [1]
    assert track_ids(tracker, Box(130, 100, 50, 50)) == [2]  # IoU 0.25


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="min_iou"):
        IouTracker(min_iou=0.0)
