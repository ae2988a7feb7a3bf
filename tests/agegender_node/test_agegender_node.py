"""agegender_node as a real process: identified faces with real crops in over DDS, ages out.

Runs the installed ``agegender_node`` entry point in a ROS domain of the test's own, publishes a
frame of real face crops (and a face without a crop), then a corrupt message, then a good frame
again, and checks the answers against the same backend run in-process, the node's
``/diagnostics`` and its final counters.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from agegender_node.estimators import AgeGenderEstimator
from face_common.faces import Face, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from labelled_faces import LabelledFace
from ros_processes import RosProcesses, exit_counters, publish_until, reported, status_values, stop

CAMERA = "cam_test"
BACKEND = "wideresnet_onnx"
NS = 1_000_000_000


def _frame(sec: int, faces: list[Face]) -> FrameFaces:
    return FrameFaces(FrameRef(CAMERA, sec * NS), faces)


def answer(received: list[FrameFaces], sec: int) -> FrameFaces | None:
    """The first answer to frame ``sec`` (a frame is sent again until one comes back)."""
    return next((f for f in list(received) if f.frame.stamp_ns == sec * NS), None)


def test_node_estimates_every_face_of_a_frame_and_survives_bad_messages(
    ros_graph: RosProcesses,
    model_dir: Path,
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

    health = ros_graph.diagnostics(f"/{CAMERA}/agegender_node")
    received = ros_graph.collect(FacesMsg, f"/{CAMERA}/faces_attributed", frame_faces_from_msg, FACES_QOS)
    publisher = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_identified", FACES_QOS)
    process = ros_graph.start(
        "agegender_node", "agegender_node", namespace=CAMERA, backend=BACKEND, model_dir=model_dir
    )
    # Re-sent until answered: the first messages may precede discovery.
    publish_until(
        lambda: answer(received, 100) is not None, lambda: publisher.publish(sent), process, period_s=2
    )
    skipped = reported(health, Level.WARN, "skipped_faces +")  # the face without a crop

    corrupt_sent = []

    def publish_bad_then_good() -> None:
        publisher.publish(corrupt)
        corrupt_sent.append(corrupt)
        publisher.publish(again)

    publish_until(lambda: answer(received, 102) is not None, publish_bad_then_good, process, period_s=2)
    bad = reported(health, Level.WARN, "bad_messages +")

    got = answer(received, 100)
    assert [f.face_id for f in got.faces] == [100, 101, 102, 999]
    want = onnx_estimators[BACKEND].estimate([f.crop for f in faces], [f.box_in_crop() for f in faces])
    for face, estimate in zip(got.faces, want, strict=False):
        assert face.age == pytest.approx(estimate.age, abs=1e-3)  # float32 on the wire
        assert face.p_female == pytest.approx(estimate.p_female, abs=1e-4)
        assert face.gender == estimate.gender
    assert math.isnan(got.faces[-1].age) and got.faces[-1].gender == ""
    assert answer(received, 101) is None
    (answered,) = answer(received, 102).faces
    assert answered.age == pytest.approx(want[1].age, abs=1e-3)
    assert int(status_values(skipped)["skipped_faces"]) >= 1
    assert int(status_values(bad)["bad_messages"]) >= 1

    log = stop(process)
    assert process.returncode == 0, log
    assert f"backend={BACKEND}" in log
    assert "dropping unreadable FaceArray: " in log and "(bad_messages=1)" in log
    assert "faces without a crop (or its box) left unestimated (skipped_faces=1)" in log
    # Faces messages are reliable both ways: every copy sent (again until answered) was answered
    # or counted as bad. Frame 100 has 3 faces estimated and 1 skipped, frame 102 one estimated.
    copies = {sec: sum(f.frame.stamp_ns == sec * NS for f in received) for sec in (100, 102)}
    faces_estimated = 3 * copies[100] + copies[102]
    assert exit_counters(log) == {
        "frames": len(received),
        "faces": faces_estimated,
        "estimated": faces_estimated,
        "bad_messages": len(corrupt_sent),
        "skipped_faces": copies[100],
        "failed_frames": 0,
    }, log
