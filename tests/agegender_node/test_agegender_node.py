"""agegender_node as a real process: identified faces with real crops in over DDS, ages out.

Runs the installed ``agegender_node`` entry point in its own ROS domain, publishes a frame of
real face crops (and a face without a crop), then a corrupt message, then a good frame again,
and checks the answers against the same backend run in-process and what the node logged.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import rclpy
from agegender_node.estimators import AgeGenderEstimator
from face_common.faces import Face, FrameFaces, FrameRef
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from graph_launcher.command_line import resolve_executable
from labelled_faces import LabelledFace
from rclpy.executors import SingleThreadedExecutor

DOMAIN_ID = 200 + os.getpid() % 30  # away from the other node tests' domains and from domain 0
CAMERA = "cam_test"
BACKEND = "wideresnet_onnx"
TIMEOUT_S = 60.0
NS = 1_000_000_000


@pytest.fixture
def node_process(model_dir: Path) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [
        resolve_executable("agegender_node", "agegender_node"),
        "--ros-args",
        "-p",
        f"backend:={BACKEND}",
        "-p",
        f"model_dir:={model_dir}",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def _frame(sec: int, faces: list[Face]) -> FrameFaces:
    return FrameFaces(FrameRef(CAMERA, sec * NS), faces)


def spin_until(
    executor: SingleThreadedExecutor, done: Callable[[], bool], process: subprocess.Popen, tick: Callable
) -> None:
    """Spin, calling ``tick`` (re-publishing: the first messages may precede discovery)."""
    deadline = time.monotonic() + TIMEOUT_S
    next_tick = 0.0
    while not done():
        assert process.poll() is None, f"node died:\n{process.stdout.read()}"
        assert time.monotonic() < deadline, "no answer from agegender_node"
        if time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + 2.0
        executor.spin_once(timeout_sec=0.1)


def test_node_estimates_every_face_of_a_frame_and_survives_bad_messages(
    node_process: subprocess.Popen,
    labelled_faces: list[LabelledFace],
    onnx_estimators: dict[str, AgeGenderEstimator],
) -> None:
    real = [lf.face for lf in labelled_faces[:: max(1, len(labelled_faces) // 3)][:3]]
    faces = [
        Face(index=i, box=f.box, score=0.9, crop=f.crop, crop_box=f.crop_box, face_id=100 + i)
        for i, f in enumerate(real)
    ]
    no_crop = Face(index=len(faces), box=real[0].box, score=0.5, face_id=999)
    sent = frame_faces_to_msg(_frame(100, [*faces, no_crop]))
    corrupt = frame_faces_to_msg(_frame(101, faces[:1]))
    corrupt.faces[0].crop.data = corrupt.faces[0].crop.data[:-5]
    again = frame_faces_to_msg(_frame(102, faces[1:2]))

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    try:
        node = rclpy.create_node("agegender_node_test", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        received: dict[int, FacesMsg] = {}
        node.create_subscription(
            FacesMsg, "faces_attributed", lambda m: received.setdefault(m.header.stamp.sec, m), 10
        )
        publisher = node.create_publisher(FacesMsg, "faces_identified", FACES_QOS)

        spin_until(executor, lambda: 100 in received, node_process, lambda: publisher.publish(sent))

        def publish_bad_then_good() -> None:
            publisher.publish(corrupt)
            publisher.publish(again)

        spin_until(executor, lambda: 102 in received, node_process, publish_bad_then_good)
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)

    got = frame_faces_from_msg(received[100])
    assert got.frame == FrameRef(CAMERA, 100 * NS)
    assert [f.face_id for f in got.faces] == [100, 101, 102, 999]
    want = onnx_estimators[BACKEND].estimate([f.crop for f in faces], [f.box_in_crop() for f in faces])
    for face, estimate in zip(got.faces, want, strict=False):
        assert face.age == pytest.approx(estimate.age, abs=1e-3)  # float32 on the wire
        assert face.p_female == pytest.approx(estimate.p_female, abs=1e-4)
        assert face.gender == estimate.gender
    assert math.isnan(got.faces[-1].age) and got.faces[-1].gender == ""
    assert 101 not in received
    (answered,) = frame_faces_from_msg(received[102]).faces
    assert answered.age == pytest.approx(want[1].age, abs=1e-3)

    node_process.send_signal(signal.SIGINT)
    log, _ = node_process.communicate(timeout=20)
    assert node_process.returncode == 0, log
    assert f"backend={BACKEND}" in log
    assert "dropping bad faces message (bad_messages=1)" in log
    assert "faces without a crop (or its box) left unestimated (skipped_faces=1)" in log
