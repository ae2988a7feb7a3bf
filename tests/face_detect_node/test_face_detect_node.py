"""face_detect_node as a real process: 720p frames in over DDS, faces out.

Runs the installed ``face_detect_node`` entry point in its own ROS domain, publishes a real frame,
then bad frames, then a real frame again, and checks what comes back and what the node logged.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import rclpy
from face_common.faces import FrameRef
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FacesMsg, frame_faces_from_msg
from face_detect_node.detection import detect_faces
from face_detect_node.detectors import make_detector
from graph_launcher.command_line import resolve_executable
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

DOMAIN_ID = 100 + os.getpid() % 100  # away from other tests' domains and from domain 0
CAMERA = "cam_test"
NODE_PARAMS = {"detector": "hog", "detect_scale": 0.5, "detect_every": 1}  # each copy detected
TIMEOUT_S = 60.0


@pytest.fixture
def node_process() -> Iterator[subprocess.Popen]:
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [resolve_executable("face_detect_node", "face_detect_node"), "--ros-args"]
    for name, value in NODE_PARAMS.items():
        command += ["-p", f"{name}:={value}"]
    command += ["--log-level", "face_detect_node:=debug"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def header(sec: int) -> Header:
    h = Header(frame_id=CAMERA)
    h.stamp.sec = sec
    return h


def keep_first_by_sec(store: dict) -> Callable:
    """A callback keeping the first message of each frame (re-published frames answer again)."""
    return lambda msg: store.setdefault(msg.header.stamp.sec, msg)


def spin_until(
    executor: SingleThreadedExecutor, done: Callable[[], bool], process: subprocess.Popen, tick: Callable
) -> None:
    """Spin, calling ``tick`` (re-publishing: frames are best-effort, discovery takes a while)."""
    deadline = time.monotonic() + TIMEOUT_S
    next_tick = 0.0
    while not done():
        assert process.poll() is None, f"node died:\n{process.stdout.read()}"
        assert time.monotonic() < deadline, "no answer from face_detect_node"
        if time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + 1.0
        executor.spin_once(timeout_sec=0.1)


def test_node_detects_faces_over_dds_and_survives_bad_frames(
    node_process: subprocess.Popen, frame_720p: np.ndarray
) -> None:
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    try:
        node = rclpy.create_node("face_detect_node_test", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        faces_by_sec: dict[int, FacesMsg] = {}
        node.create_subscription(
            FacesMsg, "faces", lambda m: faces_by_sec.setdefault(m.header.stamp.sec, m), 10
        )
        images = node.create_publisher(Image, "image_raw", qos_profile_sensor_data)
        good = array_to_image_msg(frame_720p, "bgr8", header(100))

        spin_until(
            executor,
            lambda: 100 in faces_by_sec,
            node_process,
            lambda: images.publish(good),
        )

        received = frame_faces_from_msg(faces_by_sec[100])
        assert received.frame == FrameRef(CAMERA, 100 * 1_000_000_000)
        expected = detect_faces(frame_720p, make_detector("hog", detect_scale=0.5), received.frame)
        assert len(expected.faces) == 3
        assert [f.box for f in received.faces] == [f.box for f in expected.faces]
        assert [f.index for f in received.faces] == [0, 1, 2]
        for got, want in zip(received.faces, expected.faces, strict=True):
            assert got.crop_box == want.crop_box
            np.testing.assert_array_equal(got.crop, want.crop)

        truncated = array_to_image_msg(frame_720p, "bgr8", header(101))
        truncated.data = truncated.data[:-7]
        empty = Image(header=header(102), encoding="bgr8")
        again = array_to_image_msg(frame_720p, "bgr8", header(103))

        def publish_bad_then_good() -> None:
            for msg in (truncated, empty, again):
                images.publish(msg)

        spin_until(executor, lambda: 103 in faces_by_sec, node_process, publish_bad_then_good)
        assert 101 not in faces_by_sec and 102 not in faces_by_sec
        assert len(faces_by_sec[103].faces) == 3
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)

    node_process.send_signal(signal.SIGINT)
    log, _ = node_process.communicate(timeout=20)
    assert node_process.returncode == 0, log
    assert "detector=hog" in log
    assert "dropping bad frame (bad_frames=1)" in log
    assert "dropping bad frame (bad_frames=2)" in log
    assert "empty image" in log and "bytes, expected step" in log  # both bad frames, told apart
    assert "3 face(s)" in log  # the per-frame debug line
