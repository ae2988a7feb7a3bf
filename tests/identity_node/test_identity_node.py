"""identity_node as a real process: faces with real crops in over DDS, persistent face IDs out.

The same person twice gets one ID, another person another; bad faces and a corrupt message are
counted and the node keeps going; after a ``kill -9`` a restarted node gives the same IDs back
from the gallery file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import rclpy
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from faces_from_images import largest_face_frame
from graph_launcher.command_line import resolve_executable
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

DOMAIN_ID = 100 + (os.getpid() + 37) % 100  # away from domain 0 and, likely, from other tests
CAMERA = "cam_identity_test"
TIMEOUT_S = 60.0


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts the installed ``identity_node`` on one gallery file (call again to restart)."""
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [
        resolve_executable("identity_node", "identity_node"),
        "--ros-args",
        "-p",
        f"gallery_path:={tmp_path / 'gallery.sqlite'}",
    ]
    processes = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


class Probe:
    """The test's side of the graph: publishes ``faces``, keeps each ``faces_identified`` by stamp."""

    def __init__(self, context: rclpy.Context) -> None:
        self.node = Node("identity_node_test", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.received: dict[int, FrameFaces] = {}
        self.publisher = self.node.create_publisher(FacesMsg, "faces", FACES_QOS)
        self.node.create_subscription(
            FacesMsg, "faces_identified", lambda m: self.received.setdefault(m.header.stamp.sec, m), 10
        )

    def spin_until(
        self,
        done: Callable[[], bool],
        process: subprocess.Popen,
        what: str,
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        """Spin until ``done``, calling ``tick`` every 2 s (the only place a message is re-sent)."""
        deadline = time.monotonic() + TIMEOUT_S
        next_tick = 0.0
        while not done():
            assert process.poll() is None, f"identity_node died:\n{process.stdout.read()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            if time.monotonic() >= next_tick:
                tick()
                next_tick = time.monotonic() + 2.0
            self.executor.spin_once(timeout_sec=0.1)

    def connect(self, process: subprocess.Popen) -> None:
        """Wait until the node's subscription and publisher are matched (messages are reliable)."""
        self.spin_until(
            lambda: (
                self.publisher.get_subscription_count() > 0
                and self.node.count_publishers("faces_identified") > 0
            ),
            process,
            "discovery",
        )

    def identify(self, message: FacesMsg, process: subprocess.Popen) -> FrameFaces:
        """Publish one frame and return the node's answer (the first one, if it was re-sent:
        right after a restart the publisher may still be matched to the killed node)."""
        sec = message.header.stamp.sec
        self.spin_until(
            lambda: sec in self.received,
            process,
            f"faces_identified of frame {sec}",
            lambda: self.publisher.publish(message),
        )
        return frame_faces_from_msg(self.received[sec])


def frame_message(path: Path, sec: int) -> FacesMsg:
    return frame_faces_to_msg(largest_face_frame(path, CAMERA, sec * 1_000_000_000))


def test_node_gives_persistent_ids_over_dds(start_node, face_data: Path, identity_labels) -> None:
    by_person: dict[str, list[Path]] = {}
    for row in identity_labels:
        by_person.setdefault(row["person"], []).append(face_data / "identity" / row["path"])
    person_a = next(p for p, paths in by_person.items() if len(paths) >= 2)
    person_b = next(p for p in by_person if p != person_a)
    a1, a2, b1 = by_person[person_a][0], by_person[person_a][1], by_person[person_b][0]

    unusable = FrameFaces(
        FrameRef(CAMERA, 4_000_000_000),
        [
            Face(index=0, box=Box(10, 10, 40, 40), score=1.0),  # no crop
            Face(  # face box outside its crop
                index=1,
                box=Box(500, 500, 40, 40),
                score=1.0,
                crop=largest_face_frame(a1).faces[0].crop,
                crop_box=Box(0, 0, 1, 1),
            ),
        ],
    )
    corrupt = frame_message(b1, 5)
    corrupt.faces[0].crop.data = corrupt.faces[0].crop.data[:-5]

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    try:
        probe = Probe(context)
        process = start_node()
        probe.connect(process)
        first = probe.identify(frame_message(a1, 1), process)
        second = probe.identify(frame_message(a2, 2), process)
        other = probe.identify(frame_message(b1, 3), process)
        skipped = probe.identify(frame_faces_to_msg(unusable), process)
        probe.publisher.publish(corrupt)  # dropped, counted; the next frame still comes back
        after_corrupt = probe.identify(frame_message(a1, 6), process)

        id_a, id_b = first.faces[0].face_id, other.faces[0].face_id
        assert first.frame == FrameRef(CAMERA, 1_000_000_000)
        assert first.faces[0].box == largest_face_frame(a1).faces[0].box
        assert [frame.faces[0].new_face for frame in (first, second, other)] == [True, False, True]
        assert second.faces[0].face_id == id_a
        assert second.faces[0].distance < 0.6
        assert id_b != id_a
        assert [f.face_id for f in skipped.faces] == [UNKNOWN_FACE_ID, UNKNOWN_FACE_ID]
        assert 5 not in probe.received
        assert after_corrupt.faces[0].face_id == id_a

        process.send_signal(signal.SIGKILL)  # IDs were on disk before they were published
        process.wait()
        restarted = start_node()
        probe.connect(restarted)
        again_a = probe.identify(frame_message(a2, 7), restarted)
        again_b = probe.identify(frame_message(b1, 8), restarted)
        assert (again_a.faces[0].face_id, again_a.faces[0].new_face) == (id_a, False)
        assert (again_b.faces[0].face_id, again_b.faces[0].new_face) == (id_b, False)
        probe.node.destroy_node()
    finally:
        rclpy.shutdown(context=context)

    log, _ = process.communicate(timeout=5)
    assert "skipped_faces=2" in log and "no crop" in log and "outside" in log
    assert "dropping bad faces message (bad_messages=1)" in log
    restarted.send_signal(signal.SIGINT)
    restart_log, _ = restarted.communicate(timeout=20)
    assert restarted.returncode == 0, restart_log
    assert "known_ids=2" in restart_log
