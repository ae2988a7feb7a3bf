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
