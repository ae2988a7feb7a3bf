"""The ``ros_graph`` fixture: a fresh DDS domain per test (see camera_ros_helpers)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from camera_ros_helpers import RosGraph

_domains = itertools.count()


@pytest.fixture
def ros_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[RosGraph]:
    # This process's participant must use the same transports as the nodes, or they never match.
    monkeypatch.setenv("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    monkeypatch.setenv("FASTDDS_BUILTIN_TRANSPORTS", "LARGE_DATA")
    graph = RosGraph(100 + (os.getpid() + next(_domains)) % 100)
    yield graph
    graph.close()
