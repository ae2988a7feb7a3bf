"""Real servers and real ROS 2 processes for the bridge tests.

``kafka_broker``: a tansu broker on loopback (``kafka_bridge.local_broker``); ``mariadb``: the
DSN of a MariaDB server started by ``scripts/start_mariadb.sh``. Both are session-wide; a missing
server binary fails the tests with the install line, it never skips them. ``mysql_store``: that
server's event store, emptied for the test. Node processes run
in ``ros_graph`` (tests/conftest.py).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_support import REPO, first_line
from face_sink.mysql_store import open_store
from face_sink.schema import EventStore
from kafka_bridge.local_broker import BrokerError, LocalBroker


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
def mysql_store(mariadb: str) -> Iterator[EventStore]:
    store = open_store(mariadb)
    store.purge_older_than(1e-9, now_ns=2**62)  # the shared test database: start empty
    yield store
    store.close()
