"""FaceAttributor: the frame-level rule (which faces are estimated, in one call), with a fake model."""

from __future__ import annotations

import numpy as np
from agegender_node.attribution import FaceAttributor
from agegender_node.estimators import AgeGender
from face_common.faces import Box, Face, FrameFaces, FrameRef


class _RecordingEstimator:
    """Answers fixed estimates and records each call, so batching can be checked."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def estimate(self, crops, boxes_in_crop=None):
        self.calls.append(len(crops))
        return [AgeGender(age=20.0 + i, gender="female", p_female=0.9) for i in range(len(crops))]


def test_faces_with_crops_are_estimated_in_one_call_and_the_rest_are_reported() -> None:
    crop = np.zeros((28, 28, 3), np.uint8)
    with_crop = [
        Face(index=i, box=Box(4, 4, 20, 20), score=1.0, crop=crop, crop_box=Box(0, 0, 28, 28)) for i in (0, 2)
    ]
    without = Face(index=1, box=Box(40, 4, 20, 20), score=1.0)
    frame = FrameFaces(FrameRef("cam", 1), [with_crop[0], without, with_crop[1]])
    estimator = _RecordingEstimator()
    problems = FaceAttributor(estimator).attribute(frame)
    assert estimator.calls == [2]
    assert problems == ["face 1: no crop"]
    assert [(f.age, f.gender) for f in with_crop] == [(20.0, "female"), (21.0, "female")]
    assert np.isnan(without.age) and without.gender == ""


class _SequenceEstimator:
    """Answers preset estimates in turn, counting faces estimated."""

    def __init__(self, answers: list[AgeGender]) -> None:
        self.answers = answers
        self.estimated = 0

    def estimate(self, crops, boxes_in_crop=None):
        out = self.answers[self.estimated : self.estimated + len(crops)]
        self.estimated += len(crops)
        return out


def tracked_face(stamp: int, box_size: int, score: float = 1.0) -> FrameFaces:
    crop = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    box = Box(4, 4, box_size, box_size)
    face = Face(index=0, box=box, score=score, crop=crop, crop_box=Box(0, 0, 40, 40), track_id=3)
    return FrameFaces(FrameRef("cam", stamp), [face])


def test_a_track_is_estimated_on_better_views_and_carries_the_pooled_estimate() -> None:
    answers = [
        AgeGender(age=30.0, gender="female", p_female=0.8),
        AgeGender(age=60.0, gender="male", p_female=0.1),  # one bad view
        AgeGender(age=34.0, gender="female", p_female=0.9),
    ]
    estimator = _SequenceEstimator(answers)
    attributor = FaceAttributor(estimator, max_views=3)
    frames = [tracked_face(i, size) for i, size in enumerate((12, 12, 20, 20, 30, 36, 36))]
    for frame in frames:
        attributor.attribute(frame)
    # views 12 (first), 20 and 30 px are each better by > 20 %; 36 px would be, but 3 views are taken
    assert estimator.estimated == 3
    last = frames[-1].faces[0]
    assert last.age == 34.0  # the median, not the mean (41.3)
    assert last.p_female == np.mean([0.8, 0.1, 0.9]) and last.gender == "female"
    assert frames[1].faces[0].age == 30.0  # between estimates a face carries its track's estimate


def test_a_carried_box_is_not_estimated_but_carries_the_estimate() -> None:
    estimator = _SequenceEstimator([AgeGender(age=25.0, gender="male", p_female=0.2)])
    attributor = FaceAttributor(estimator)
    attributor.attribute(tracked_face(0, 20))
    carried = tracked_face(1, 36, score=float("nan"))
    attributor.attribute(carried)
    assert estimator.estimated == 1 and carried.faces[0].age == 25.0
