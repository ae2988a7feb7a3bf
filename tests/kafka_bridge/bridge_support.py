"""Helpers shared by the bridge tests: node counters from logs and topics, server start-up lines.
(A module of its own, not conftest: test files import from it by name.) The node processes and
their DDS domain come from ``ros_processes``.
"""

from __future__ import annotations

import json
import selectors
import subprocess
from pathlib import Path

from ros_processes import RosProcesses
from std_msgs.msg import String

REPO = Path(__file__).resolve().parents[2]


def first_line(process: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return process.stdout.readline().strip()


def collect_stats(ros: RosProcesses, node_path: str) -> list[dict[str, int]]:
    """The counters the node at ``node_path`` publishes on its ``stats`` topic from now on."""
    return ros.collect(String, f"{node_path}/stats", lambda m: json.loads(m.data))


def last_stats(log: str) -> dict[str, int]:
    """The counters of a node's last ``stats: name=value ...`` log line."""
    lines = [line for line in log.splitlines() if "stats: " in line]
    assert lines, f"no stats line in log:\n{log}"
    return {k: int(v) for k, v in (item.split("=") for item in lines[-1].split("stats: ")[1].split())}
