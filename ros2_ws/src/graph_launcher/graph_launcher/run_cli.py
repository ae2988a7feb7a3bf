"""``graph_run PKG EXEC [ARGS...]``: start one node the way ``ros2 run`` would.

PyPI has no ``ros2`` CLI; this finds the executable with the launcher's lookup and runs it with
the launcher's DDS environment (Fast DDS large-frame profile), so a node started by hand talks
to a graph started with ``graph_launch``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from graph_launcher.command_line import resolve_executable
from graph_launcher.dds_env import find_dds_profile, node_environment
from graph_launcher.launch_file import LaunchFileError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graph_run", description=__doc__.splitlines()[0])
    parser.add_argument("package")
    parser.add_argument("executable")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="passed on, e.g. --ros-args -p fps:=6.0")
    options = parser.parse_args(argv)
    try:
        path = resolve_executable(options.package, options.executable)
    except LaunchFileError as error:
        print(f"graph_run: error: {error}", file=sys.stderr)
        return 2
    profile = find_dds_profile(Path.cwd()) or find_dds_profile(Path(__file__).parent)
    environment = node_environment(os.environ, profile)
    os.execve(path, [path, *options.arguments], environment)
    return 0  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(main())
