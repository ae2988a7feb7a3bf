"""The local servers the tests and the single-machine run use: tansu and MariaDB."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

import mysql.connector
import pytest
from confluent_kafka.admin import AdminClient
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.topics import TopicSpec, ensure_topics


def topics(bootstrap: str) -> set[str]:
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5).topics)


def test_broker_restarts_on_the_same_address_with_empty_storage() -> None:
    with LocalBroker() as broker:
        address = broker.bootstrap
        assert ensure_topics({"bootstrap.servers": address}, [TopicSpec("before", 1)]) == ["before"]
        assert "before" in topics(address)
        broker.kill()
        assert not broker.running
        assert broker.start() == address
        assert "before" not in topics(address)
    assert not broker.running


def test_broker_command_prints_its_address_and_stops_on_sigterm() -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "kafka_bridge.local_broker"], stdout=subprocess.PIPE, text=True
    )
    try:
        address = command.stdout.readline().strip()
        assert address.startswith("127.0.0.1:")
        assert isinstance(topics(address), set)
    finally:
        command.terminate()
        assert command.wait(timeout=10) == 0


def test_mariadb_accepts_the_dsn_user(mariadb: str) -> None:
    dsn = urlparse(mariadb)
    assert (dsn.scheme, dsn.hostname) == ("mysql", "127.0.0.1")
    connection = mysql.connector.connect(
        host=dsn.hostname, port=dsn.port, user=dsn.username, password=dsn.password, database=dsn.path[1:]
    )
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE smoke (id INT PRIMARY KEY, name VARCHAR(16))")
        cursor.executemany("INSERT INTO smoke VALUES (%s, %s)", [(1, "one"), (2, "two")])
        connection.commit()
        cursor.execute("SELECT name FROM smoke ORDER BY id")
        assert cursor.fetchall() == [("one",), ("two",)]
        cursor.execute("DROP TABLE smoke")
    finally:
        connection.close()


def test_mariadb_refuses_a_wrong_password(mariadb: str) -> None:
    dsn = urlparse(mariadb)
    with pytest.raises(mysql.connector.errors.ProgrammingError, match="Access denied"):
        mysql.connector.connect(host=dsn.hostname, port=dsn.port, user=dsn.username, password="wrong")
