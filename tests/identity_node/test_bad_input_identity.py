"""identity_node and a missing or unreadable model file (issue 12): it stops at start with one
clear line (exit 1, no traceback), not with onnxruntime's stack trace, nor with a second one from
closing the half-made node."""

from __future__ import annotations

from pathlib import Path

import pytest
from identity_node.model_files import ONNX_FILE
from ros_processes import RosProcesses, finish


@pytest.mark.parametrize(
    ("model_bytes", "fragment"),
    [
        (None, "{path} not found: run scripts/fetch_models.sh first"),
        (b"\x08\x07not an onnx model" * 50, "cannot load model {path}: "),
    ],
    ids=["missing", "random bytes"],
)
def test_unreadable_model_file_stops_the_node_with_a_clear_line(
    ros_graph: RosProcesses, tmp_path: Path, model_bytes: bytes | None, fragment: str
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    if model_bytes is not None:
        (models / ONNX_FILE).write_bytes(model_bytes)
    process = ros_graph.start(
        "identity_node",
        "identity_node",
        descriptor_backend="dlib_resnet_onnx",
        model_dir=models,
        gallery_path=tmp_path / "gallery.sqlite",
    )
    code, log = finish(process)
    assert code == 1, log
    assert "cannot start: " + fragment.format(path=models / ONNX_FILE) in log, log
    assert "Traceback" not in log
