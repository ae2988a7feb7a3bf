"""Helpers shared by the bridge tests: the repository root and server start-up lines. (A module of
its own, not conftest: test files import from it by name.) Node processes, their DDS domain and
their counters come from ``ros_processes``.
"""

from __future__ import annotations

import selectors
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def first_line(process: subprocess.Popen, timeout_s: float) -> str:
    """The first line a server prints (its address), or "" if none comes within ``timeout_s``."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return process.stdout.readline().strip()
