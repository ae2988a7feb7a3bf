"""graph_diagnostics: a real node's /diagnostics read back as a table and an exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from graph_launcher.diagnostics_cli import status_table

REPO = Path(__file__).resolve().parents[2]


def test_table_has_one_block_per_node_sorted_with_level_and_counters() -> None:
    table = status_table({"/b/sink": (2, "database unavailable", {"pending": "4"}), "/a/cam": (0, "ok", {})})
    lines = table.splitlines()
    assert lines[1].split()[:2] == ["/a/cam", "OK"]
    assert lines[3].split()[:3] == ["/b/sink", "ERROR", "database"] and "pending=4" in lines[4]


def test_a_camera_skipping_corrupt_frames_reads_as_warn(tmp_path: Path, ros_domain_id: int) -> None:
    shutil.copy(next((REPO / "samples/detection/dlib_faces").glob("*.jpg")), tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    env = {**os.environ, "ROS_DOMAIN_ID": str(ros_domain_id)}
    run = [sys.executable, "-m", "graph_launcher.run_cli", "camera_node", "camera_node", "--ros-args"]
    camera = subprocess.Popen(
        [*run, "-r", "__ns:=/diag", "-p", f"source:={tmp_path}", "-p", "loop:=true", "-p", "fps:=10.0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        listen = [
            sys.executable,
            "-c",
            "import sys; from graph_launcher.diagnostics_cli import main; sys.exit(main())",
        ]
        result = subprocess.run(
            [*listen, "--seconds", "4"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        camera.send_signal(2)
        log, _ = camera.communicate(timeout=30)
    assert camera.returncode == 0, log
    assert result.returncode == 1, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("/diag/camera_node"))
    assert row.split()[1] == "WARN" and "failed +" in row, result.stdout
