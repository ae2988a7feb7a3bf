"""Fixtures for the launcher tests: the test-only nodes on PATH (a ROS domain per test is
``ros_domain_id``, tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TEST_NODES = {"talker": HERE / "nodes" / "talker.py", "listener": HERE / "nodes" / "listener.py"}


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
