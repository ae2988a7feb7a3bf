"""identity_node as a real process: faces with real crops in over DDS, persistent face IDs out.

The same person twice gets one ID, another person another; bad faces and a corrupt message are
counted, reported as WARN on ``/diagnostics``, and the node keeps going; after a ``kill -9`` a
restarted node gives the same IDs back from the gallery file.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from faces_from_images import largest_face_frame
from ros_processes import (
    RosProcesses,
    exit_counters,
    publish_until,
    reported,
    status_values,
    stop,
    wait_until,
)

CAMERA = "cam_identity_test"
NODE = f"/{CAMERA}/identity_node"


class Probe:
    """The test's side of the graph: publishes ``faces``, keeps every ``faces_identified``.

    Both are ``FACES_QOS`` (reliable, transient local), as in the graph: a restarted node gets
    the frames sent before it came up, and this side every answer the node published.
    """

    def __init__(self, ros_graph: RosProcesses) -> None:
        self.received = ros_graph.collect(
            FacesMsg, f"/{CAMERA}/faces_identified", frame_faces_from_msg, FACES_QOS
        )
        self.publisher = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces", FACES_QOS)
        self.sent: list[int] = []
        """The second of every frame ``identify`` published, copies included."""

    def answer(self, sec: int) -> FrameFaces | None:
        """The first answer to frame ``sec``."""
        return next((f for f in list(self.received) if f.frame.stamp_ns == sec * 1_000_000_000), None)

    def identify(self, message: FacesMsg, process: subprocess.Popen) -> FrameFaces:
        """Publish one frame and return the node's answer (the first one, if it was re-sent:
        right after a restart the publisher may still be matched to the killed node)."""
        sec = message.header.stamp.sec

        def publish() -> None:
            self.publisher.publish(message)
            self.sent.append(sec)

        publish_until(lambda: self.answer(sec) is not None, publish, process, period_s=2)
        return self.answer(sec)


def frame_message(path: Path, sec: int) -> FacesMsg:
    return frame_faces_to_msg(largest_face_frame(path, CAMERA, sec * 1_000_000_000))


def test_node_gives_persistent_ids_over_dds(
    ros_graph: RosProcesses, face_data: Path, identity_labels, tmp_path: Path
) -> None:
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

    probe = Probe(ros_graph)
    health = ros_graph.diagnostics(NODE)
    gallery = tmp_path / "gallery.sqlite"
    process = ros_graph.start("identity_node", "identity_node", namespace=CAMERA, gallery_path=gallery)
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
    assert probe.answer(5) is None
    assert after_corrupt.faces[0].face_id == id_a
    # Both problems were reported (in one report or two), and counted; every frame sent (reliably,
    # copies included) was identified.
    assert reported(health, Level.WARN, "skipped_faces +")
    assert reported(health, Level.WARN, "bad_messages +1")
    assert wait_until(lambda: status_values(health[-1])["frames"] == str(len(probe.sent)), timeout_s=10)
    counted = {name: int(value) for name, value in status_values(health[-1]).items()}
    assert counted["skipped_faces"] == 2 * probe.sent.count(4), counted
    assert (counted["bad_messages"], counted["new_faces"], counted["failed_frames"]) == (1, 2, 0)
    assert counted["last_face_id"] == max(id_a, id_b)

    process.send_signal(signal.SIGKILL)  # IDs were on disk before they were published
    log = process.communicate()[0]
    assert (
        "faces left unidentified: " in log
        and "(skipped_faces=2)" in log
        and "no crop" in log
        and "outside" in log
    )
    assert "dropping unreadable FaceArray: " in log and "(bad_messages=1)" in log
    restarted = ros_graph.start("identity_node", "identity_node", namespace=CAMERA, gallery_path=gallery)
    again_a = probe.identify(frame_message(a2, 7), restarted)
    again_b = probe.identify(frame_message(b1, 8), restarted)
    assert (again_a.faces[0].face_id, again_a.faces[0].new_face) == (id_a, False)
    assert (again_b.faces[0].face_id, again_b.faces[0].new_face) == (id_b, False)

    restart_log = stop(restarted)
    assert restarted.returncode == 0, restart_log
    assert "known_ids=2" in restart_log
    # The restarted node also got the frames sent before (transient local): no new face anywhere.
    counters = exit_counters(restart_log)
    assert (counters["new_faces"], counters["last_face_id"], counters["failed_frames"]) == (
        0,
        max(id_a, id_b),
        0,
    )
