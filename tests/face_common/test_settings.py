"""One settings dataclass, three users: ROS parameters, command-line options and launch files agree."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
import rclpy
import yaml
from agegender_node.attribution import AttributionSettings
from face_common.graph_node import declare_settings
from face_common.settings import add_arguments, from_arguments, setting, setting_fields
from face_detect_node.detection import DetectionConfig
from identity_node.identification import IdentitySettings

REPO = Path(__file__).resolve().parents[2]
#: Each node's settings class, by the executable launch files start.
NODE_SETTINGS: dict[str, type] = {
    "face_detect_node": DetectionConfig,
    "identity_node": IdentitySettings,
    "agegender_node": AttributionSettings,
}
#: Parameters a launch file sets from another node's value, not from a default of their own.
FROM_ELSEWHERE = {"frame_rate"}  # the camera's


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


@pytest.mark.parametrize("settings_class", NODE_SETTINGS.values(), ids=lambda c: c.__name__)
def test_settings_are_all_described(settings_class: type) -> None:
    assert [f.name for f in setting_fields(settings_class)] == [
        f.name for f in dataclasses.fields(settings_class)
    ]
    assert all(f.metadata["description"] for f in setting_fields(settings_class))


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
            value = str(param["value"])
            if (
                param["name"] in defaults
                and value.startswith("$(var ")
                and param["name"] not in FROM_ELSEWHERE
            ):
                arg = value.removeprefix("$(var ").removesuffix(")")
                default = defaults[param["name"]]
                expected = str(default).lower() if isinstance(default, bool) else str(default)
                assert args[arg] == expected, (
                    f"{launch_file.name}: {arg} defaults to {args[arg]}, not {expected} ({node['exec']})"
                )
