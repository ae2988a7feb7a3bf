import math

import numpy as np
import pytest
from face_common.faces import Box, Face, FaceEvent, FrameRef


@pytest.mark.parametrize(
    ("box", "margin", "expected"),
    [
        (Box(100, 50, 40, 60), 0.4, Box(84, 26, 72, 108)),
        (Box(0, 0, 10, 10), 0.1, Box(-1, -1, 12, 12)),
        (Box(5, 5, 10, 10), 0.0, Box(5, 5, 10, 10)),
    ],
)
def test_box_expanded(box: Box, margin: float, expected: Box) -> None:
    assert box.expanded(margin) == expected


def test_box_in_crop_is_relative_to_crop_origin() -> None:
    face = Face(index=0, box=Box(100, 50, 40, 60), score=1.0, crop_box=Box(84, 26, 72, 108))
    assert face.box_in_crop() == Box(16, 24, 40, 60)


def test_box_in_crop_without_crop_is_an_error() -> None:
    with pytest.raises(ValueError, match="no crop"):
        Face(index=0, box=Box(0, 0, 1, 1), score=1.0).box_in_crop()


@pytest.mark.parametrize(
    ("age", "gender", "distance"),
    [(31.5, "female", 0.42), (math.nan, "", math.nan)],
)
def test_event_dict_round_trip(age: float, gender: str, distance: float) -> None:
    face = Face(
        index=2,
        box=Box(1, 2, 3, 4),
        score=0.9,
        crop=np.zeros((2, 2, 3), np.uint8),
        face_id=7,
        distance=distance,
        new_face=True,
        age=age,
        gender=gender,
    )
    event = FaceEvent.from_face(FrameRef("cam1", 1_700_000_000_123_456_789), face)
    d = event.as_dict()
    assert d["stamp_ns"] == 1_700_000_000_123_456_789 and d["box"] == [1, 2, 3, 4]
    back = FaceEvent.from_dict(d)
    assert back.camera_id == "cam1" and back.face_id == 7 and back.gender == gender
    assert (math.isnan(back.age) and math.isnan(age)) or back.age == age


@pytest.mark.parametrize(
    ("box", "clipped"),
    [
        (Box(10, 20, 30, 25), Box(10, 20, 30, 25)),  # inside
        (Box(-5, -10, 30, 40), Box(0, 0, 25, 30)),  # over the top-left corner
        (Box(90, 45, 30, 40), Box(90, 45, 10, 5)),  # over the bottom-right corner
        (Box(100, 10, 5, 5), None),  # right of the image
        (Box(-5, 10, 5, 5), None),  # touching the left edge from outside
    ],
)
def test_a_box_clipped_to_an_image(box: Box, clipped: Box | None) -> None:
    assert box.clipped_to(100, 50) == clipped
