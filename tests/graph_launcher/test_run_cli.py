"""graph_run: one node started like ``ros2 run``, through the launcher's lookup and DDS set-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GRAPH_RUN = [sys.executable, "-m", "graph_launcher.run_cli"]


def test_runs_the_package_executable_with_its_arguments_and_the_dds_profile(tmp_path: Path) -> None:
    probe = subprocess.run(
        [*GRAPH_RUN, "graph_launcher", "graph_launch", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert "usage: graph_launch" in probe.stdout


def test_unknown_executable_is_a_clear_error() -> None:
    result = subprocess.run(
        [*GRAPH_RUN, "camera_node", "no_such_node"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "package 'camera_node' has no executable 'no_such_node'" in result.stderr
