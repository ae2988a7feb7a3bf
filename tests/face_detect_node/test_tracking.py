"""Face tracks on synthetic scenes (pure logic, no models).

FaceTracker (ByteTrack, detection on every k-th frame): ids that survive crossing, occlusion and
neighbours, end when a face leaves, and boxes carried through the frames without detection.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from face_common.faces import Box
from face_common.geometry import iou
from face_detect_node.tracking import FaceTracker, TrackedFace

FPS = 12.0


A, B = Box(100, 100, 50, 50), Box(400, 100, 50, 50)


Scene = Callable[[int], list[Box]]
"""The true face boxes of frame ``n``."""


def run(tracker: FaceTracker, scene: Scene, frames: int, every: int) -> list[list[TrackedFace]]:
    """Detect (perfectly) on every ``every``-th frame from frame 0, carry in between."""
    return [
        tracker.update([(b, 0.9) for b in scene(n)]) if n % every == 0 else tracker.carry()
        for n in range(frames)
    ]


def id_at(faces: list[TrackedFace], truth: Box) -> int:
    """The track id of the output box that overlaps ``truth`` best (IoU >= 0.5)."""
    best = max(faces, key=lambda f: iou(f.box, truth))
    assert iou(best.box, truth) >= 0.5, (faces, truth)
    return best.track_id


def walk(x0: float, y: int, vx: float, size: int = 80) -> Callable[[int], Box]:
    return lambda n: Box(round(x0 + vx * n), y, size, size)


def test_ids_start_at_1_per_tracker_and_new_faces_get_one_on_their_first_frame() -> None:
    first, second = FaceTracker(FPS), FaceTracker(FPS)
    assert [f.track_id for f in first.update([(A, 0.9), (B, 0.8)])] == [1, 2]
    assert [f.track_id for f in second.update([(B, 0.8)])] == [1]
    (moved, newcomer, kept) = first.update(
        [(Box(404, 100, 50, 50), 0.7), (Box(700, 300, 60, 60), 0.9), (A, 0.9)]
    )
    assert (moved.track_id, newcomer.track_id, kept.track_id) == (2, 3, 1)  # in the order given
    assert (moved.box, moved.score, moved.detected) == (Box(404, 100, 50, 50), 0.7, True)


@pytest.mark.parametrize("every", [1, 2, 3])
def test_faces_crossing_paths_keep_their_ids(every: int) -> None:
    """Walking towards each other at one height; the boxes overlap fully mid-way."""
    left, right = walk(0, 300, 10), walk(600, 304, -10)
    out = run(FaceTracker(FPS), lambda n: [left(n), right(n)], 61, every)
    start = (id_at(out[0], left(0)), id_at(out[0], right(0)))
    assert start[0] != start[1]
    assert (id_at(out[60], left(60)), id_at(out[60], right(60))) == start


def test_a_face_hidden_behind_a_crossing_one_gets_its_id_back() -> None:
    """Detection sees only the front face while they overlap (6 frames, under lost_track_s)."""
    front, back = walk(0, 300, 8), walk(520, 300, -8)
    hidden = range(30, 36)
    out = run(FaceTracker(FPS), lambda n: [front(n)] + ([] if n in hidden else [back(n)]), 60, every=2)
    assert id_at(out[59], back(59)) == id_at(out[0], back(0)) != id_at(out[59], front(59))
    assert len(out[31]) == 1  # the hidden face's track is not shown at a guessed place


@pytest.mark.parametrize(("hidden_detections", "same_id"), [(3, True), (6, False)])
def test_an_occluded_face_keeps_its_id_for_lost_track_s_only(hidden_detections: int, same_id: bool) -> None:
    """detect_every 3 at 12 fps: a detection every 0.25 s; lost_track_s 1.0 keeps 4 misses."""
    tracker = FaceTracker(FPS, lost_track_s=1.0)
    hidden = range(3, 3 + 3 * hidden_detections)
    out = run(tracker, lambda n: [] if n in hidden else [A], hidden.stop + 1, every=3)
    assert all(out[n] == [] for n in hidden)
    assert (out[hidden.stop][0].track_id == out[0][0].track_id) is same_id


def test_faces_entering_and_leaving_at_the_edges_get_new_ids_never_reused() -> None:
    tracker = FaceTracker(FPS, lost_track_s=0.5)
    walker = walk(-30, 200, 12)  # enters at the left edge, leaves at the right after ~110 frames
    out = run(tracker, lambda n: [walker(n)] if walker(n).x < 1280 - 40 else [], 140, every=2)
    ids = {f.track_id for frame in out for f in frame}
    assert ids == {1}
    assert out[-1] == [] and tracker.carry() == []  # the track ended once the face left
    (again,) = tracker.update([(walker(0), 0.9)])  # someone enters where the first one did
    assert again.track_id == 2


def test_faces_side_by_side_keep_distinct_ids() -> None:
    """Two customers at the till, boxes 2 px apart, jittering by a few pixels."""
    jitter = [0, 3, -2, 1, -3, 2]

    def scene(n: int) -> list[Box]:
        d = jitter[n % len(jitter)]
        return [Box(300 + d, 200, 90, 90), Box(392 - d, 202 + d, 90, 90)]

    out = run(FaceTracker(FPS), scene, 36, every=1)
    assert all([f.track_id for f in frame] == [1, 2] for frame in out)


def test_carry_follows_a_face_moving_at_constant_speed() -> None:
    """detect_every 3, 8 px per frame: holding the last box would fall to IoU 0.67 (16 px off)."""
    walker = walk(100, 300, 8)
    out = run(FaceTracker(FPS), lambda n: [walker(n)], 48, every=3)
    carried = {n: frame for n, frame in enumerate(out) if n % 3}
    assert all(f.detected is False and len(frame) == 1 for frame in carried.values() for f in frame)
    assert {f.track_id for frame in out for f in frame} == {1}
    overlaps = {n: iou(frame[0].box, walker(n)) for n, frame in carried.items()}
    assert min(overlaps.values()) >= 0.5
    assert min(v for n, v in overlaps.items() if n > 12) >= 0.85  # once the speed is learnt


def test_weak_detections_continue_tracks_but_start_none() -> None:
    tracker = FaceTracker(FPS, min_track_score=0.6)
    (face,) = tracker.update([(A, 0.9)])
    assert tracker.update([(Box(102, 100, 50, 50), 0.3), (B, 0.3)]) == [
        TrackedFace(face.track_id, Box(102, 100, 50, 50), 0.3, detected=True)
    ]


@pytest.mark.parametrize("kwargs", [{"match_iou": 0.0}, {"match_iou": 1.5}, {"lost_track_s": -1.0}])
def test_face_tracker_refuses_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        FaceTracker(FPS, **kwargs)
