"""``graph_diagnostics``: the health of every running node, from ``/diagnostics``, as one table.

PyPI has no ``ros2 topic echo`` or ``rqt_robot_monitor``; this listens for a few seconds (every
node reports once a second) and prints each node's latest level, message and counters, so an
operator sees at a glance which node is unhappy and why. Exit status 0 all OK, 1 a WARN, 2 an
ERROR, 3 no node heard: a monitoring script can act on it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from graph_launcher.dds_env import find_dds_profile, node_environment

LEVELS = {0: "OK", 1: "WARN", 2: "ERROR", 3: "STALE"}
NO_NODE_HEARD = 3


def status_table(statuses: dict[str, tuple[int, str, dict[str, str]]]) -> str:
    """One line per node, sorted by name: level, message, then its counters."""
    width = max((len(name) for name in statuses), default=4)
    lines = [f"{'node':<{width}}  level  message / counters"]
    for name in sorted(statuses):
        level, message, values = statuses[name]
        counters = " ".join(f"{key}={value}" for key, value in values.items())
        lines.append(f"{name:<{width}}  {LEVELS.get(level, str(level)):<5}  {message}")
        lines.append(f"{'':<{width}}         {counters}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graph_diagnostics", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to listen (default: 3)")
    options = parser.parse_args(argv)
    profile = find_dds_profile(Path.cwd()) or find_dds_profile(Path(__file__).parent)
    os.environ.update(node_environment(os.environ, profile))  # read when the participant is made

    import rclpy  # after the environment: the DDS participant reads it
    from diagnostic_msgs.msg import DiagnosticArray

    statuses: dict[str, tuple[int, str, dict[str, str]]] = {}

    def store(msg: DiagnosticArray) -> None:
        for status in msg.status:
            statuses[status.name] = (
                status.level[0],
                status.message,
                {kv.key: kv.value for kv in status.values},
            )

    rclpy.init()
    try:
        node = rclpy.create_node("graph_diagnostics")
        node.create_subscription(DiagnosticArray, "/diagnostics", store, 100)
        deadline = time.monotonic() + options.seconds
        while time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
    if not statuses:
        print(f"no node reported on /diagnostics within {options.seconds:g} s", file=sys.stderr)
        return NO_NODE_HEARD
    print(status_table(statuses))
    return max(min(level, 2) for level, _, _ in statuses.values())
