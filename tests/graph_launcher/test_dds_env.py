"""The node environment: Fast DDS profile and RMW unless the user already chose them."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_launcher.dds_env import BOOTSTRAP_GUARD, find_dds_profile, node_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = Path("/repo/config/fastdds_profile.xml")


@pytest.mark.parametrize(
    ("base", "expected_changes"),
    [
        ({}, {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp", "FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE)}),
        ({"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}, {"FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE)}),
        ({"FASTDDS_DEFAULT_PROFILES_FILE": "/mine.xml"}, {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}),
        ({"FASTRTPS_DEFAULT_PROFILES_FILE": "/old.xml"}, {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}),
        ({"FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA"}, {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}),
        (
            {"PYTHONUNBUFFERED": ""},
            {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp", "FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE)},
        ),
    ],
)
def test_dds_settings_are_added_unless_already_chosen(
    base: dict[str, str], expected_changes: dict[str, str]
) -> None:
    environment = node_environment({"PATH": "/bin", **base}, PROFILE)
    expected = {"PATH": "/bin", "PYTHONUNBUFFERED": "1", **base, **expected_changes}
    assert environment == expected


def test_without_a_profile_only_the_rmw_is_set() -> None:
    assert node_environment({}, None) == {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp", "PYTHONUNBUFFERED": "1"}


def test_ros_wheels_bootstrap_guard_is_not_inherited() -> None:
    assert BOOTSTRAP_GUARD not in node_environment({BOOTSTRAP_GUARD: "1", "LD_LIBRARY_PATH": "/x"}, None)


def test_profile_is_found_from_the_launch_folder_of_the_repository() -> None:
    assert find_dds_profile(REPO_ROOT / "launch") == REPO_ROOT / "config" / "fastdds_profile.xml"


def test_no_profile_outside_a_repository(tmp_path: Path) -> None:
    assert find_dds_profile(tmp_path) is None
