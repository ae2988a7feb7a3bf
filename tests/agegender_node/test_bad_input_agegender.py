"""agegender_node and bad input (issue 12): a missing or unreadable model file stops it at start
with one clear line (exit 1, no traceback); a faces message with an infinite value or an unknown
gender is counted (``bad_messages``, WARN on ``/diagnostics``) and the next good frame answered."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from agegender_node.model_files import ONNX_FILE
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from ros_processes import RosProcesses, exit_counters, finish, publish_until, reported, status_values, stop

CAMERA = "cam_bad"
NS = 1_000_000_000


@pytest.mark.parametrize(
    ("model_bytes", "fragment"),
    [
        (None, f"{ONNX_FILE} missing: run agegender_fetch_models"),
        (b"\x08\x07garbage" * 100, f"cannot load model {{dir}}/{ONNX_FILE}: "),
        ("truncated", f"cannot load model {{dir}}/{ONNX_FILE}: "),
    ],
    ids=["missing", "random bytes", "truncated"],
)
def test_unreadable_model_file_stops_the_node_with_a_clear_line(
    ros_graph: RosProcesses, model_dir: Path, tmp_path: Path, model_bytes: bytes | str | None, fragment: str
) -> None:
    if model_bytes == "truncated":
        with (model_dir / ONNX_FILE).open("rb") as real:
            model_bytes = real.read(1 << 20)  # the first MiB of the 98 MB export
    if model_bytes is not None:
        (tmp_path / ONNX_FILE).write_bytes(model_bytes)
    process = ros_graph.start(
        "agegender_node", "agegender_node", backend="wideresnet_onnx", model_dir=tmp_path
    )
    code, log = finish(process)
    assert code == 1, log
    assert "cannot start: " in log and fragment.format(dir=tmp_path) in log, log
    assert "Traceback" not in log


def _frame(sec: int, **fields: object) -> FacesMsg:
    """A frame with one face (no crop: nothing for the model to do) and ``fields`` set on it."""
    msg = frame_faces_to_msg(FrameFaces(FrameRef(CAMERA, sec * NS), [Face(0, Box(1, 2, 30, 40), 0.9)]))
    for name, value in fields.items():
        setattr(msg.faces[0], name, value)
    return msg


def test_faces_message_breaking_face_msg_is_counted_and_the_next_frame_answered(
    ros_graph: RosProcesses,
) -> None:
    health = ros_graph.diagnostics(f"/{CAMERA}/agegender_node")
    received = ros_graph.collect(FacesMsg, f"/{CAMERA}/faces_attributed", frame_faces_from_msg, FACES_QOS)
    faces = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_identified", FACES_QOS)
    process = ros_graph.start("agegender_node", "agegender_node", namespace=CAMERA)
    bad = [_frame(300, age=math.inf), _frame(301, p_female=-math.inf), _frame(302, gender="robot")]

    def answered(sec: int) -> bool:
        return any(f.frame.stamp_ns == sec * NS for f in list(received))

    def send() -> None:
        for msg in [*bad, _frame(303)]:
            faces.publish(msg)

    publish_until(lambda: answered(303), send, process)
    warning = reported(health, Level.WARN, "bad_messages +")
    log = stop(process)
    assert process.returncode == 0, log
    assert not any(answered(sec) for sec in (300, 301, 302))
    assert int(status_values(warning)["bad_messages"]) >= 1
    assert "dropping unreadable FaceArray: face 0: age is inf" in log
    assert "Traceback" not in log
    assert exit_counters(log)["bad_messages"] >= len(bad)
