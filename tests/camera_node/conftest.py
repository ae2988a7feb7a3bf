"""The ``ros_graph`` fixture: a fresh DDS domain per test (see ros_processes)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from ros_processes import RosProcesses

_domains = itertools.count()


@pytest.fixture
def ros_graph() -> Iterator[RosProcesses]:
    graph = RosProcesses(100 + (os.getpid() + next(_domains)) % 100)
    yield graph
    graph.close()
