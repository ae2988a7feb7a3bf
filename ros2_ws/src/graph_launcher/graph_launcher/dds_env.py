"""The environment every node process gets: Fast DDS with the project's large-frame profile.

Fast DDS's default shared-memory segment (512 KiB) cannot hold one 720p ``bgr8`` frame (2.76 MB),
so frames fall back to fragmented UDP and get lost or delayed; ``config/fastdds_profile.xml``
gives the shared-memory transport a 32 MB segment (see ``bench/bench_hop.py`` for the numbers).
A DDS choice the user already made in the environment always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

RMW_IMPLEMENTATION = "rmw_fastrtps_cpp"
PROFILE_IN_REPOSITORY = Path("config") / "fastdds_profile.xml"
PROFILE_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
DDS_CHOICE_VARIABLES = (PROFILE_VARIABLE, "FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_BUILTIN_TRANSPORTS")
"""Variables that mean the user already configured Fast DDS (the FASTRTPS_ name is Fast DDS 2's)."""

BOOTSTRAP_GUARD = "_ROS_WHEELS_BOOTSTRAP_COMPLETE"
"""Set by the ROS wheels' ``.pth`` after it re-executes Python with ``LD_LIBRARY_PATH``; each node
process must run that bootstrap itself, so the guard is never passed on."""


def find_dds_profile(start: Path) -> Path | None:
    """The project's Fast DDS profile in ``start`` or the nearest parent that has one."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / PROFILE_IN_REPOSITORY
        if candidate.is_file():
            return candidate
    return None


def node_environment(base: Mapping[str, str], dds_profile: Path | None) -> dict[str, str]:
    """Environment for node processes: ``base`` plus the RMW and Fast DDS profile unless already set."""
    environment = {key: value for key, value in base.items() if key != BOOTSTRAP_GUARD}
    environment.setdefault("RMW_IMPLEMENTATION", RMW_IMPLEMENTATION)
    if dds_profile is not None and not any(name in environment for name in DDS_CHOICE_VARIABLES):
        environment[PROFILE_VARIABLE] = str(dds_profile)
    # Python nodes block-buffer a piped stdout; unbuffered keeps their lines in order and live.
    environment.setdefault("PYTHONUNBUFFERED", "1")
    return environment
