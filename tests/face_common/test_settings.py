"""One settings dataclass, three users: ROS parameters, command-line options and launch files agree."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
import rclpy
import yaml
from face_common.graph_node import declare_settings
from face_common.settings import add_arguments, from_arguments, setting, setting_fields
from graph_launcher.params_files import node_classes

REPO = Path(__file__).resolve().parents[2]
#: Each node's settings class, by the executable launch files start.
NODE_SETTINGS: dict[str, type] = {executable: cls.settings_class for _, executable, cls in node_classes()}
#: Parameters a launch file sets from another node's value, not from a default of their own.
FROM_ELSEWHERE = {"frame_rate"}  # the camera's
#: Values a launch file chooses for its graph on purpose, by (file, executable, parameter).
GRAPH_CHOICES = {
    (name, "camera_node", "source"): "the bundled clip: the launch file runs as is"
    for name in ("detect.launch.yaml", "local.launch.yaml", "pi.launch.yaml")
} | {
    ("detect.launch.yaml", "camera_node", "min_subscribers"): "face_detect and face_annotator",
    ("local.launch.yaml", "face_detect_node", "log_frames"): "the demo shows each frame's faces",
    ("local.launch.yaml", "face_sink", "exit_when_idle_s"): "a recorded source ends the demo",
    ("pi.launch.yaml", "frames_out", "bootstrap_servers"): "the local broker of scripts/store.sh",
    ("pi.launch.yaml", "frames_out", "camera_id"): "the camera's id keys its records",
    ("server.launch.yaml", "frames_in", "bootstrap_servers"): "the local broker of scripts/store.sh",
    ("server.launch.yaml", "events_out", "bootstrap_servers"): "the local broker of scripts/store.sh",
    ("server.launch.yaml", "frames_in", "max_frame_age_s"): "live mode: fresh frames for signage",
    ("server.launch.yaml", "face_sink", "database"): "the server's events apart from the local demo's",
}


@dataclasses.dataclass(frozen=True)
class Example:
    name: str = setting("a", "which one", choices=("a", "b"))
    count: int = setting(3, "how many", 1, 10)
    ratio: float = setting(0.5, "how much", 0.0, 1.0)
    enabled: bool = setting(True, "whether")


def test_options_take_each_settings_default_and_parse_back() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Example, exclude={"ratio"})
    assert from_arguments(parser.parse_args([]), Example, ratio=0.25) == Example(ratio=0.25)
    args = parser.parse_args(["--name", "b", "--count", "7", "--no-enabled"])
    assert from_arguments(args, Example, ratio=0.5) == Example("b", 7, 0.5, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--name", "c"])  # not one of the choices


def test_an_option_named_otherwise_parses_into_its_setting() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Example, options={"count": "--how-many", "enabled": "--on"})
    args = parser.parse_args(["--how-many", "4", "--no-on"])
    assert from_arguments(args, Example) == Example(count=4, enabled=False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "4"])


def test_node_parameters_are_the_settings_defaults_with_descriptions_and_ranges() -> None:
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("settings_test", context=context)
        assert declare_settings(node, Example) == Example()
        count = node.describe_parameter("count")
        assert count.read_only and count.description == "how many"
        assert (count.integer_range[0].from_value, count.integer_range[0].to_value) == (1, 10)
        assert node.describe_parameter("ratio").floating_point_range[0].to_value == 1.0
        assert "one of a, b" in node.describe_parameter("name").description
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


@pytest.mark.parametrize("launch_file", sorted((REPO / "launch").glob("*.launch.yaml")), ids=lambda p: p.name)
def test_launch_files_default_to_the_node_settings(launch_file: Path) -> None:
    """A launch argument passed straight to a node's setting defaults to that setting's default:
    one default per parameter."""
    entries = yaml.safe_load(launch_file.read_text())["launch"]
    args = {e["arg"]["name"]: str(e["arg"].get("default")) for e in entries if "arg" in e}
    for entry in entries:
        node = entry.get("node", {})
        if node.get("exec") not in NODE_SETTINGS:
            continue
        defaults = {f.name: f.default for f in setting_fields(NODE_SETTINGS[node["exec"]])}
        for param in node.get("param", []):
            if "from" in param:  # a parameters file: config/<node>.yaml, checked on its own
                continue
            value = str(param["value"])
            if (
                param["name"] in defaults
                and value.startswith("$(var ")
                and param["name"] not in FROM_ELSEWHERE
                and (launch_file.name, node["exec"], param["name"]) not in GRAPH_CHOICES
            ):
                arg = value.removeprefix("$(var ").removesuffix(")")
                default = defaults[param["name"]]
                expected = str(default).lower() if isinstance(default, bool) else str(default)
                assert args[arg] == expected, (
                    f"{launch_file.name}: {arg} defaults to {args[arg]}, not {expected} ({node['exec']})"
                )
