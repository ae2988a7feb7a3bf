import math
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest
import rclpy
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_common.images import ImageConversionError
from face_common.ros_msgs import FacesMsg, HeaderError, frame_faces_from_msg, frame_faces_to_msg, frame_ref
from face_msgs.msg import Face as FaceMsg
from face_msgs.msg import FaceArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

NAN = math.nan
CROP = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(6, 4, 3)


def _face(index: int = 0, **fields: object) -> Face:
    return Face(index=index, box=Box(10, 20, 30, 40), score=0.75, **fields)


FULL = _face(
    crop=CROP,
    crop_box=Box(-3, -5, 4, 6),  # negative origin: the crop runs past the frame's top-left corner
    track_id=7,
    face_id=123456789012,
    distance=0.25,
    new_face=True,
    age=31.5,
    gender="female",
    p_female=0.875,
)
UNSET = _face()  # no crop, NaN distance/age/p_female, empty gender, unknown ids

CASES = {
    "all fields and a crop": FrameFaces(FrameRef("cam_entrance", 1_700_000_000_123_456_789), [FULL]),
    "nothing estimated, no crop": FrameFaces(FrameRef("cam0", 5), [UNSET]),
    "crop box without crop image": FrameFaces(FrameRef("cam0", 5), [_face(crop_box=Box(0, 0, 8, 8))]),
    "no faces": FrameFaces(FrameRef("cam1", 0), []),
    "several faces": FrameFaces(FrameRef("cam1", 999_999_999), [FULL, _face(1, gender="male")]),
}


def _same_float(a: float, b: float) -> bool:
    """Equal at float32 precision (the message's float fields), NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or np.float32(a) == np.float32(b)


def assert_same_frame_faces(got: FrameFaces, want: FrameFaces) -> None:
    assert got.frame == want.frame
    assert len(got.faces) == len(want.faces)
    for g, w in zip(got.faces, want.faces, strict=True):
        assert (g.index, g.box, g.crop_box) == (w.index, w.box, w.crop_box)
        assert (g.track_id, g.face_id, g.new_face, g.gender) == (w.track_id, w.face_id, w.new_face, w.gender)
        for name in ("score", "distance", "age", "p_female"):
            assert _same_float(getattr(g, name), getattr(w, name)), name
        if w.crop is None:
            assert g.crop is None
        else:
            np.testing.assert_array_equal(g.crop, w.crop)


@pytest.mark.parametrize("frame_faces", CASES.values(), ids=CASES.keys())
def test_round_trip_through_message(frame_faces: FrameFaces) -> None:
    assert_same_frame_faces(frame_faces_from_msg(frame_faces_to_msg(frame_faces)), frame_faces)


@pytest.mark.parametrize("frame_faces", CASES.values(), ids=CASES.keys())
def test_round_trip_through_serialized_bytes(frame_faces: FrameFaces) -> None:
    """The C type support keeps NaN, int64 ids and crop bytes intact."""
    data = serialize_message(frame_faces_to_msg(frame_faces))
    assert_same_frame_faces(frame_faces_from_msg(deserialize_message(data, FaceArray)), frame_faces)


def test_message_layout() -> None:
    msg = frame_faces_to_msg(CASES["all fields and a crop"])
    assert FacesMsg is FaceArray
    assert msg.header.frame_id == "cam_entrance"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1_700_000_000, 123_456_789)
    face = msg.faces[0]
    assert (face.crop_x, face.crop_y, face.crop_width, face.crop_height) == (-3, -5, 4, 6)
    assert (face.crop.encoding, face.crop.width, face.crop.height, face.crop.step) == ("bgr8", 4, 6, 12)
    assert face.crop.header == msg.header


def test_unset_face_is_encoded_in_band() -> None:
    face = frame_faces_to_msg(CASES["nothing estimated, no crop"]).faces[0]
    assert math.isnan(face.distance) and math.isnan(face.age) and math.isnan(face.p_female)
    assert (face.face_id, face.track_id, face.gender) == (-1, -1, "")
    assert (face.crop_width, face.crop_height, face.crop.width, face.crop.height) == (0, 0, 0, 0)


def test_default_message_ids_are_unknown() -> None:
    assert (FaceMsg().face_id, FaceMsg().track_id) == (-1, -1)


def test_numpy_scalars_from_models_are_accepted() -> None:
    face = Face(
        index=np.int64(2),
        box=Box(*np.array([1, 2, 3, 4], dtype=np.int64)),
        score=np.float32(0.5),
        face_id=np.int64(9),
        age=np.float32(40.0),
        new_face=np.bool_(True),
    )
    got = frame_faces_from_msg(frame_faces_to_msg(FrameFaces(FrameRef("cam0", 1), [face]))).faces[0]
    want = (2, Box(1, 2, 3, 4), 0.5, 9, 40.0, True)
    assert (got.index, got.box, got.score, got.face_id, got.age, got.new_face) == want


@pytest.mark.parametrize(
    ("encoding", "match"), [("rgb16", "unsupported message encoding"), ("bgr8", "data has 5 bytes")]
)
def test_bad_crop_image_is_a_clear_error(encoding: str, match: str) -> None:
    msg = frame_faces_to_msg(CASES["all fields and a crop"])
    msg.faces[0].crop.encoding = encoding
    msg.faces[0].crop.data = bytes(5)
    with pytest.raises(ImageConversionError, match=match):
        frame_faces_from_msg(msg)


PUBLISHER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import rclpy
    from face_common.faces import Box, Face, FrameFaces, FrameRef
    from face_common.ros_msgs import FacesMsg, frame_faces_to_msg

    rclpy.init()
    node = rclpy.create_node("faces_test_publisher")
    publisher = node.create_publisher(FacesMsg, sys.argv[1], 10)
    crop = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(6, 4, 3)
    face = Face(0, Box(10, 20, 30, 40), 0.75, crop=crop, crop_box=Box(-3, -5, 4, 6), age=31.5)
    msg = frame_faces_to_msg(FrameFaces(FrameRef("cam_entrance", 1_700_000_000_123_456_789), [face]))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        publisher.publish(msg)
        time.sleep(0.05)
    """
)


def test_faces_cross_process_over_dds() -> None:
    """A FaceArray with a crop published by another process arrives intact over DDS."""
    topic = f"faces_test_{uuid.uuid4().hex}"  # other test runs on this host share the domain
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, topic])
    context = rclpy.Context()
    rclpy.init(context=context)
    received: list[FaceArray] = []
    try:
        node = rclpy.create_node("faces_test_subscriber", context=context)
        node.create_subscription(FaceArray, topic, received.append, 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 15
        while not received and time.monotonic() < deadline and publisher.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        executor.shutdown()
    finally:
        publisher.terminate()
        publisher.wait(timeout=10)
        rclpy.shutdown(context=context)
    assert received, f"nothing received on {topic} (publisher exit code {publisher.returncode})"
    got = frame_faces_from_msg(received[0])
    want = FrameFaces(  # what the publisher sent, rebuilt here
        FrameRef("cam_entrance", 1_700_000_000_123_456_789),
        [_face(crop=CROP, crop_box=Box(-3, -5, 4, 6), age=31.5)],
    )
    assert_same_frame_faces(got, want)


@pytest.mark.parametrize(
    ("sec", "nanosec"),
    [(2**31 - 1, 1_000_000_000), (-(2**31), -1)],  # past int32 seconds once the nanoseconds carry
)
def test_a_header_stamp_no_ros_time_holds_is_refused(sec: int, nanosec: int) -> None:
    header = Header(frame_id="cam1")
    header.stamp.sec, header.stamp.nanosec = sec, nanosec
    with pytest.raises(HeaderError, match="does not fit a ROS time"):
        frame_ref(header)
