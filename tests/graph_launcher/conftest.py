"""Fixtures for the launcher tests: the test-only nodes on PATH and a ROS domain per test."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TEST_NODES = {"talker": HERE / "nodes" / "talker.py", "listener": HERE / "nodes" / "listener.py"}

# Other test sessions may share this host: start from a pid-dependent id inside the valid range.
_DOMAIN_IDS = itertools.count(start=20 + os.getpid() % 60)


@pytest.fixture
def ros_domain_id() -> str:
    """A ROS_DOMAIN_ID no other test of this session uses, so graphs never hear each other."""
    return str(next(_DOMAIN_IDS))


@pytest.fixture
def test_nodes_bin(tmp_path: Path) -> Path:
    """A folder with ``talker`` and ``listener`` executables, to put first on PATH.

    The graph names a package that is not installed, so the launcher finds them on PATH, the
    same way it finds any executable that is not a project console script.
    """
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, script in TEST_NODES.items():
        wrapper = folder / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
        wrapper.chmod(0o755)
    return folder
