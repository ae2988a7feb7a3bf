"""face_detect_node survives every kind of unreadable frame (issue 12): each bad frame is counted
(``bad_messages``, WARN on ``/diagnostics``) and the good frame sent right after it is detected.

One node process takes the bad kinds one after another, so the test also shows that none of
them leaves the node in a state that spoils the next frame. (Truncated data and an empty image
are in ``test_face_detect_node.py``; JPEG reaches the graph only through ``camera_node`` and
``frames_in``, tested in their packages.)
"""

from __future__ import annotations

import array

import numpy as np
from face_common.faces import FrameFaces
from face_common.health import Level
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg
from rclpy.qos import qos_profile_sensor_data
from ros_processes import (
    RosProcesses,
    exit_counters,
    levels,
    publish_until,
    status_values,
    stop,
)
from sensor_msgs.msg import Image
from std_msgs.msg import Header

CAMERA = "cam_bad"
NODE_PARAMS = {"detector": "hog", "detect_scale": 0.5, "detect_every": 1}


def _header(sec: int) -> Header:
    header = Header(frame_id=CAMERA)
    header.stamp.sec = sec
    return header


def _raw(sec: int, encoding: str, height: int, width: int, step: int, size: int) -> Image:
    msg = Image(header=_header(sec), encoding=encoding, height=height, width=width, step=step)
    msg.data = array.array("B", bytes(size))
    return msg


# (kind, message for stamp sec): 64x48 frames unless the size itself is the fault.
BAD_FRAMES = {
    "wrong encoding": lambda sec: _raw(sec, "yuv422", 48, 64, 128, 48 * 128),
    "step below the row": lambda sec: _raw(sec, "bgr8", 48, 64, 64 * 3 - 1, 48 * (64 * 3 - 1)),
    "step beyond the data": lambda sec: _raw(sec, "bgr8", 48, 64, 64 * 3 + 4, 48 * 64 * 3),
    "zero size with data": lambda sec: _raw(sec, "bgr8", 0, 0, 0, 30),
    "huge": lambda sec: _raw(sec, "bgr8", 100_000, 100_000, 300_000, 64),
}


def _answer(received: list[FrameFaces], sec: int) -> FrameFaces | None:
    return next((f for f in list(received) if f.frame.stamp_ns == sec * 1_000_000_000), None)


def test_each_bad_frame_is_counted_and_the_next_good_frame_detected(
    ros_graph: RosProcesses, frame_720p: np.ndarray
) -> None:
    health = ros_graph.diagnostics(f"/{CAMERA}/face_detect_node")
    received = ros_graph.collect(FacesMsg, f"/{CAMERA}/faces", frame_faces_from_msg, FACES_QOS)
    images = ros_graph.node.create_publisher(Image, f"/{CAMERA}/image_raw", qos_profile_sensor_data)
    process = ros_graph.start("face_detect_node", "face_detect_node", namespace=CAMERA, **NODE_PARAMS)

    def bad_count() -> int:
        return max((int(status_values(s)["bad_messages"]) for s in list(health)), default=0)

    for k, (kind, make_bad) in enumerate(BAD_FRAMES.items()):
        bad_sec, good_sec = 200 + 2 * k, 201 + 2 * k
        bad, good = make_bad(bad_sec), array_to_image_msg(frame_720p, "bgr8", _header(good_sec))
        before = bad_count()

        def send(bad: Image = bad, good: Image = good) -> None:
            images.publish(bad)
            images.publish(good)

        publish_until(
            lambda good_sec=good_sec, before=before: (
                _answer(received, good_sec) is not None and bad_count() > before
            ),
            send,
            process,
        )
        assert _answer(received, bad_sec) is None, kind
        assert len(_answer(received, good_sec).faces) == 3, kind

    warnings = [s for s in list(health) if Level(s.level[0]) == Level.WARN]
    assert warnings and all(s.message.startswith("bad_messages +") for s in warnings), levels(health)
    log = stop(process)
    assert process.returncode == 0, log
    assert "dropping unreadable Image: unsupported message encoding 'yuv422'" in log  # the first kind
    assert "Traceback" not in log
    counters = exit_counters(log)
    assert counters["bad_messages"] >= len(BAD_FRAMES)
    assert counters["frames"] == len(received) >= len(BAD_FRAMES)
