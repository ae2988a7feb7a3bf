"""Real servers and real ROS 2 processes for the bridge tests.

``kafka_broker``: a tansu broker on loopback (``kafka_bridge.local_broker``); ``mariadb``: the
DSN of a MariaDB server started by ``scripts/start_mariadb.sh``. Both are session-wide; a missing
server binary fails the tests with the install line, it never skips them. ``ros`` runs node
processes in a DDS domain of their own and talks to them from this process.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_support import REPO, first_line
from kafka_bridge.local_broker import BrokerError, LocalBroker
from ros_processes import RosProcesses

_domains = itertools.count()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[LocalBroker]:
    try:
        broker = LocalBroker()
        broker.start()
    except BrokerError as err:
        pytest.fail(f"cannot start the local Kafka broker: {err}")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[str]:
    """DSN ``mysql://user:password@127.0.0.1:port/database`` of a throwaway MariaDB server."""
    with tempfile.TemporaryDirectory(prefix="mariadb-test-") as workdir:
        log_path = Path(workdir) / "start_mariadb.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                ["bash", str(REPO / "scripts" / "start_mariadb.sh"), "--dir", f"{workdir}/server"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        dsn = first_line(server, timeout_s=60.0)
        if not dsn.startswith("mysql://"):
            server.kill()
            server.wait()
            pytest.fail(f"MariaDB did not start (scripts/start_mariadb.sh):\n{log_path.read_text()}")
        yield dsn
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def ros() -> Iterator[RosProcesses]:
    processes = RosProcesses(1 + (os.getpid() + next(_domains)) % 100)
    yield processes
    processes.close()
