"""Property tests of the faces message decoder: a ``FaceArray`` with any values its field types
allow either decodes into faces that can be published on unchanged, or is refused with a
``ValueError`` the nodes count (``FaceMsgError``, ``HeaderError`` or, for the crop,
``ImageConversionError``)."""

from __future__ import annotations

import array
import math

import numpy as np
import pytest
from face_common.faces import Face, FrameFaces
from face_common.images import ImageConversionError
from face_common.ros_msgs import FaceMsgError, HeaderError, frame_faces_from_msg, frame_faces_to_msg
from face_msgs.msg import Face as FaceMsg
from face_msgs.msg import FaceArray
from hypothesis import given
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import Header

INT32 = st.integers(-(2**31), 2**31 - 1)
FLOAT32 = st.floats(width=32)  # NaN and +-inf included
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@st.composite
def crops(draw: st.DrawFn) -> Image:
    """No crop, a good bgr8 crop, or one whose size, step, encoding or data are off."""
    kind = draw(st.sampled_from(["none", "good", "bad"]))
    if kind == "none":
        return Image()
    height, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    encoding = "bgr8" if kind == "good" else draw(st.sampled_from(["bgr8", "rgb8", "mono8", "bgra8", ""]))
    step = width * 3 if kind == "good" else draw(st.integers(0, 2**32 - 1))
    size = step * height if kind == "good" else draw(st.integers(0, 80))
    msg = Image(height=height, width=width, encoding=encoding, step=step)
    msg.data = array.array("B", draw(st.binary(min_size=size, max_size=size)))
    return msg


@st.composite
def face_msgs(draw: st.DrawFn) -> FaceMsg:
    return FaceMsg(
        index=draw(INT32),
        x=draw(INT32),
        y=draw(INT32),
        width=draw(INT32),
        height=draw(INT32),
        score=draw(FLOAT32),
        track_id=draw(INT32),
        face_id=draw(st.integers(-(2**63), 2**63 - 1)),
        distance=draw(FLOAT32),
        new_face=draw(st.booleans()),
        age=draw(FLOAT32),
        gender=draw(st.sampled_from(["", "female", "male"]) | TEXT),
        p_female=draw(FLOAT32),
        crop_x=draw(INT32),
        crop_y=draw(INT32),
        crop_width=draw(INT32),
        crop_height=draw(INT32),
        crop=draw(crops()),
    )


@st.composite
def face_arrays(draw: st.DrawFn) -> FaceArray:
    header = Header(frame_id=draw(TEXT))
    sec = draw(st.sampled_from([-(2**31), 0, 2**31 - 1]) | INT32)  # the ends of the range as often
    header.stamp.sec, header.stamp.nanosec = sec, draw(st.integers(0, 2**32 - 1))
    return FaceArray(header=header, faces=draw(st.lists(face_msgs(), max_size=3)))


def _same_face(a: Face, b: Face) -> bool:
    floats = ("score", "distance", "age", "p_female")
    same_floats = all(
        getattr(a, f) == getattr(b, f) or (math.isnan(getattr(a, f)) and math.isnan(getattr(b, f)))
        for f in floats
    )
    same_crop = (a.crop is None) == (b.crop is None) and (a.crop is None or np.array_equal(a.crop, b.crop))
    rest = ("index", "box", "crop_box", "track_id", "face_id", "new_face", "gender")
    return same_floats and same_crop and all(getattr(a, f) == getattr(b, f) for f in rest)


@given(face_arrays())
def test_faces_message_decodes_and_republishes_or_is_refused(msg: FaceArray) -> None:
    try:
        decoded = frame_faces_from_msg(msg)
    except (FaceMsgError, HeaderError, ImageConversionError):
        return
    assert all(not math.isinf(getattr(f, name)) for f in decoded.faces for name in ("score", "age"))
    wire = serialize_message(frame_faces_to_msg(decoded))  # what every stage does: rclpy's setters
    again = frame_faces_from_msg(deserialize_message(wire, FaceArray))  # check no range: ints wrap
    assert again.frame == decoded.frame
    assert len(again.faces) == len(decoded.faces)
    assert all(_same_face(a, b) for a, b in zip(again.faces, decoded.faces, strict=True))


def _one_face(**fields: object) -> FaceArray:
    return FaceArray(header=Header(frame_id="cam0"), faces=[FaceMsg(**fields)])


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"age": math.inf}, "age is inf"),
        ({"score": -math.inf}, "score is -inf"),
        ({"distance": math.inf}, "distance is inf"),
        ({"p_female": math.inf}, "p_female is inf"),
        ({"gender": "robot"}, "gender must be one of"),
    ],
)
def test_fields_face_msg_rules_out_are_refused(fields: dict, fragment: str) -> None:
    with pytest.raises(FaceMsgError, match=fragment):
        frame_faces_from_msg(_one_face(**fields))


def test_nan_is_not_there_not_refused() -> None:
    face = frame_faces_from_msg(_one_face(age=math.nan, p_female=math.nan)).faces[0]
    assert math.isnan(face.age) and math.isnan(face.p_female)


def test_stamp_a_header_cannot_hold_again_is_refused() -> None:
    """sec 2^31-1 plus 4.29 s of nanoseconds is past 2038: republished, int32 seconds would wrap to 1901."""
    msg = _one_face()
    msg.header.stamp.sec, msg.header.stamp.nanosec = 2**31 - 1, 2**32 - 1
    with pytest.raises(HeaderError, match="does not fit a ROS time"):
        frame_faces_from_msg(msg)


def test_nanoseconds_over_a_second_carry_into_seconds() -> None:
    """As ``rclpy.time.Time.from_msg``: the stamp is ``sec`` s + ``nanosec`` ns."""
    msg = _one_face()
    msg.header.stamp.sec, msg.header.stamp.nanosec = 5, 1_500_000_000
    decoded = frame_faces_from_msg(msg)
    assert decoded.frame.stamp_ns == 6_500_000_000
    header = frame_faces_to_msg(decoded).header
    assert (header.stamp.sec, header.stamp.nanosec) == (6, 500_000_000)
    assert isinstance(decoded, FrameFaces)
