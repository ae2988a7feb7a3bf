"""Command lines for nodes: parameter literals, executable lookup, ROS arguments."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from graph_launcher.command_line import node_command, render_param_value, resolve_executable
from graph_launcher.launch_file import LaunchFileError, NodeSpec, ParamValue


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (12.0, "12.0"),
        (0.25, "0.25"),
        (1e-05, "1e-05"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        ("hog", "hog"),
        ("samples/video/clip.mp4", "samples/video/clip.mp4"),
        ("rtsp://host:554/x", "rtsp://host:554/x"),
        ("", "''"),
        ("12", "'12'"),
        ("1e5", "'1e5'"),
        ("true", "'true'"),
        ("yes", "'yes'"),
        ("null", "'null'"),
        ("it's", "it's"),
        ("it's: here", "'it''s: here'"),
        ("a # b", "'a # b'"),
        (" padded ", "' padded '"),
        ("[1, 2]", "'[1, 2]'"),
        (["cam1", "12"], "[cam1, '12']"),
        ([1.0, 2.5], "[1.0, 2.5]"),
    ],
)
def test_render_param_value(value: ParamValue, literal: str) -> None:
    assert render_param_value(value) == literal


@pytest.mark.parametrize(
    "value",
    [True, 7, 0.5, -2.5e-7, "hog", "", "12", "1e5", "on", "it's: here", "x\ty", ["a", "1"], [True, False]],
)
def test_rendered_literals_read_back_as_the_same_value_and_type(value: ParamValue) -> None:
    loaded = yaml.safe_load(render_param_value(value))
    assert loaded == value
    assert type(loaded) is type(value)


def spec(**fields: object) -> NodeSpec:
    defaults: dict[str, object] = {
        "pkg": "pkg",
        "executable": "exe",
        "name": None,
        "namespace": None,
        "params": (),
        "remaps": (),
        "arguments": (),
        "output": "screen",
        "shutdown_on_exit": False,
    }
    return NodeSpec(**(defaults | fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("node", "command"),
    [
        (spec(), ["/bin/exe"]),
        (spec(arguments=("--x", "1")), ["/bin/exe", "--x", "1"]),
        (spec(name="camera"), ["/bin/exe", "--ros-args", "-r", "__node:=camera"]),
        (
            spec(params=(("fps", 5.0),), params_files=("a.yaml", "b.yaml")),
            [
                "/bin/exe",
                "--ros-args",
                "--params-file",
                "a.yaml",
                "--params-file",
                "b.yaml",
                "-p",
                "fps:=5.0",
            ],
        ),
        (
            spec(
                name="camera",
                namespace="/cam1",
                params=(("fps", 12.0), ("source", "clip.mp4"), ("camera_id", "42"), ("loop", False)),
                remaps=(("image_raw", "/other/image"),),
                arguments=("--verbose",),
            ),
            [
                "/bin/exe",
                "--verbose",
                "--ros-args",
                "-r",
                "__node:=camera",
                "-r",
                "__ns:=/cam1",
                "-p",
                "fps:=12.0",
                "-p",
                "source:=clip.mp4",
                "-p",
                "camera_id:='42'",
                "-p",
                "loop:=false",
                "-r",
                "image_raw:=/other/image",
            ],
        ),
    ],
)
def test_node_command(node: NodeSpec, command: list[str]) -> None:
    assert node_command(node, "/bin/exe") == command


def test_console_script_of_an_installed_distribution_is_found() -> None:
    found = resolve_executable("graph_launcher", "graph_launch")
    assert Path(found) == Path(sysconfig.get_path("scripts")) / "graph_launch"


def test_installed_distribution_without_that_script_is_an_error_listing_its_scripts() -> None:
    expected = r"package 'graph_launcher' has no executable 'ls'; it installs: .*graph_launch, .*graph_run\b"
    with pytest.raises(LaunchFileError, match=expected):
        resolve_executable("graph_launcher", "ls")


def test_executable_of_an_unknown_package_is_looked_up_on_path(tmp_path: Path) -> None:
    tool = tmp_path / "some_tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert resolve_executable("not_a_distribution_xyz", "some_tool", search_path=str(tmp_path)) == str(tool)


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LaunchFileError, match=r"cannot find executable 'nope'.*not on PATH"):
        resolve_executable("not_a_distribution_xyz", "nope", search_path=str(tmp_path))


def test_ros_layout_executable_in_an_ament_prefix_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = tmp_path / "lib" / "graph_launcher" / "graph_launch"
    node.parent.mkdir(parents=True)
    node.write_text("#!/bin/sh\n")
    node.chmod(0o755)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path))
    assert resolve_executable("graph_launcher", "graph_launch") == str(node)


@pytest.mark.parametrize(
    ("pkg", "executable"),
    [
        ("camera_node", "camera_node"),
        ("face_detect_node", "face_detect_node"),
        ("identity_node", "identity_node"),
        ("agegender_node", "agegender_node"),
        ("face_sink", "face_sink"),
        ("kafka_bridge", "frames_out"),
        ("kafka_bridge", "frames_in"),
        ("kafka_bridge", "events_out"),
    ],
)
def test_node_packages_install_their_executables_where_ros2_run_looks(pkg: str, executable: str) -> None:
    assert Path(resolve_executable(pkg, executable)) == Path(sys.prefix) / "lib" / pkg / executable
