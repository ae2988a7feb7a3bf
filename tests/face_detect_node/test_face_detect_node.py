"""face_detect_node as a real process: 720p frames in over DDS, faces out.

Runs the installed ``face_detect_node`` entry point in a ROS domain of the test's own, publishes a
real frame, then bad frames, then a real frame again, and checks what comes back, the node's
``/diagnostics`` and its final counters.
"""

from __future__ import annotations

import numpy as np
from face_common.faces import FrameFaces, FrameRef
from face_common.health import Level
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg
from face_detect_node.detection import detect_faces
from face_detect_node.detectors import make_detector
from rclpy.qos import qos_profile_sensor_data
from ros_processes import RosProcesses, exit_counters, levels, publish_until, reported, status_values, stop
from sensor_msgs.msg import Image
from std_msgs.msg import Header

CAMERA = "cam_test"
# Each copy detected (detect_every=1), and a log line per frame.
NODE_PARAMS = {"detector": "hog", "detect_scale": 0.5, "detect_every": 1, "log_frames": True}


def header(sec: int) -> Header:
    h = Header(frame_id=CAMERA)
    h.stamp.sec = sec
    return h


def answer(received: list[FrameFaces], sec: int) -> FrameFaces | None:
    """The first answer to frame ``sec`` (frames are sent again until one comes back)."""
    return next((f for f in list(received) if f.frame.stamp_ns == sec * 1_000_000_000), None)


def test_node_detects_faces_over_dds_and_survives_bad_frames(
    ros_graph: RosProcesses, frame_720p: np.ndarray
) -> None:
    health = ros_graph.diagnostics(f"/{CAMERA}/face_detect_node")
    received = ros_graph.collect(FacesMsg, f"/{CAMERA}/faces", frame_faces_from_msg, FACES_QOS)
    images = ros_graph.node.create_publisher(Image, f"/{CAMERA}/image_raw", qos_profile_sensor_data)
    process = ros_graph.start("face_detect_node", "face_detect_node", namespace=CAMERA, **NODE_PARAMS)
    good = array_to_image_msg(frame_720p, "bgr8", header(100))
    publish_until(lambda: answer(received, 100) is not None, lambda: images.publish(good), process)

    first = answer(received, 100)
    assert first.frame == FrameRef(CAMERA, 100 * 1_000_000_000)
    expected = detect_faces(frame_720p, make_detector("hog", detect_scale=0.5), first.frame)
    assert len(expected.faces) == 3
    assert [f.box for f in first.faces] == [f.box for f in expected.faces]
    assert [f.index for f in first.faces] == [0, 1, 2]
    for got, want in zip(first.faces, expected.faces, strict=True):
        assert got.crop_box == want.crop_box
        np.testing.assert_array_equal(got.crop, want.crop)
    assert set(levels(health)) <= {Level.OK}, [s.message for s in health]

    truncated = array_to_image_msg(frame_720p, "bgr8", header(101))
    truncated.data = truncated.data[:-7]
    empty = Image(header=header(102), encoding="bgr8")
    again = array_to_image_msg(frame_720p, "bgr8", header(103))

    def publish_bad_then_good() -> None:
        for msg in (truncated, empty, again):
            images.publish(msg)

    publish_until(lambda: answer(received, 103) is not None, publish_bad_then_good, process)
    assert answer(received, 101) is None and answer(received, 102) is None
    assert len(answer(received, 103).faces) == 3
    warning = reported(health, Level.WARN)
    assert warning.message.startswith("bad_messages +"), warning.message
    assert int(status_values(warning)["bad_messages"]) >= 1

    log = stop(process)
    assert process.returncode == 0, log
    assert "detector=hog" in log
    assert "dropping unreadable Image: " in log and "(bad_messages=1)" in log
    assert "empty image" in log or "bytes, expected step" in log  # the reason (one line per 5 s)
    assert f"{CAMERA} frame 1: 3 face(s)" in log  # log_frames: a line per frame
    counters = exit_counters(log)
    # Every good copy was detected (detect_every=1), had its 3 faces and was answered; bad copies
    # were dropped (frames are best effort: not every copy sent arrives).
    assert counters["frames"] == counters["detections"] == len(received) >= 2, log
    assert counters["faces"] == 3 * counters["frames"]
    assert counters["bad_messages"] >= 2
