"""One default per parameter: a node's declared parameters, a command's options and the params
files in config/ all come from the node's settings dataclass, and a params file drives a real node."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rclpy
import yaml
from face_common.graph_node import GraphNode, declare_settings
from face_common.settings import add_arguments, from_arguments, setting_fields
from graph_launcher.params_files import expected_files, node_classes

REPO = Path(__file__).resolve().parents[2]
NODES = sorted(node_classes(), key=lambda node: node[1])


def test_the_params_files_in_config_are_current() -> None:
    stale = [path.name for path, text in expected_files(REPO / "config").items() if path.read_text() != text]
    assert not stale, f"run graph_params: {stale}"


def test_every_launched_node_has_a_params_file() -> None:
    executables = {executable for _, executable, _ in NODES}
    assert {"camera_node", "face_detect_node", "identity_node", "agegender_node", "face_sink"} <= executables
    assert {"frames_out", "frames_in", "events_out", "face_annotator", "bag_recorder"} <= executables


@pytest.mark.parametrize("node", NODES, ids=lambda node: node[1])
def test_node_parameters_options_and_params_file_share_one_default(
    node: tuple[str, str, type[GraphNode]],
) -> None:
    _, executable, node_class = node
    settings_class = node_class.settings_class
    defaults = settings_class()
    assert all(f.metadata["description"] for f in setting_fields(settings_class))

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        bare = rclpy.create_node(f"defaults_of_{executable}", context=context)
        assert declare_settings(bare, settings_class) == defaults
        bare.destroy_node()
    finally:
        rclpy.shutdown(context=context)

    parser = argparse.ArgumentParser()
    add_arguments(parser, settings_class)
    assert from_arguments(parser.parse_args([]), settings_class) == defaults

    document = yaml.safe_load((REPO / "config" / f"{executable}.yaml").read_text())
    values = document["/**"]["ros__parameters"]
    assert list(values) == [f.name for f in setting_fields(settings_class)]
    for f in setting_fields(settings_class):
        expected = list(f.default) if isinstance(f.default, tuple) else f.default
        assert values[f.name] == expected and type(values[f.name]) is type(expected), f.name


def test_a_node_takes_its_settings_from_a_params_file_and_the_command_line_wins(
    tmp_path: Path, ros_domain_id: int
) -> None:
    params = yaml.safe_load((REPO / "config" / "camera_node.yaml").read_text())
    params["/**"]["ros__parameters"].update(
        camera_id="params_cam", source=str(REPO / "samples/detection/dlib_faces"), max_frames=4, fps=2.0
    )
    params_file = tmp_path / "camera.yaml"
    params_file.write_text(yaml.safe_dump(params))
    env = {**os.environ, "ROS_DOMAIN_ID": str(ros_domain_id)}
    command = [sys.executable, "-m", "graph_launcher.run_cli", "camera_node", "camera_node", "--ros-args"]
    result = subprocess.run(
        [*command, "--params-file", str(params_file), "-p", "fps:=50.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "at 50 fps" in log and "counters: published=4 " in log, log
