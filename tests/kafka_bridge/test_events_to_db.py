"""events_to_db: Kafka events into the SQL store, offsets committed only after the database commit.

The ordering logic runs first against a fake consumer (pure logic: what is committed when); then
the real command runs against tansu and MariaDB, is killed with SIGKILL mid-stream and restarted,
and loses its database for a while: every event must end in MySQL exactly once.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bridge_support import REPO, first_line
from confluent_kafka import TopicPartition
from events_to_db_support import (
    TOPIC,
    EventsToDb,
    FakeConsumer,
    FakeRecord,
    events_of,
    key,
    make_event,
    produce,
    record,
    sink_with,
    unique,
)
from face_common.faces import FaceEvent
from face_sink.mysql_store import open_store
from face_sink.schema import EventStore, SchemaVersionError, open_sqlite_store
from kafka_bridge.event_record import encode_event
from kafka_bridge.events_to_db import DatabaseRefused, EventsToDatabase
from kafka_bridge.local_broker import LocalBroker, free_port
from kafka_bridge.topics import ensure_topics, events_topic
from ros_processes import exit_counters, wait_until

# --- the commit protocol, against a fake consumer -------------------------------------------


def test_offsets_are_committed_only_after_the_rows_are_in_the_database(tmp_path: Path) -> None:
    batch = [
        record(0, 10, make_event("a", 0)),
        record(1, 4, make_event("b", 1)),
        record(0, 11, make_event("a", 2)),
    ]
    sink, consumer, _ = sink_with(tmp_path, [batch, [record(1, 5, make_event("b", 3))]], failures=2)
    sink.step()  # read the batch; the database is down
    assert sink.paused and consumer.paused == {0, 1} and consumer.commits == []
    sink.step()  # retried, still down; nothing more was read
    assert sink.stats()["pending"] == 3 and sink.stats()["db_failures"] == 2 and consumer.commits == []
    sink.step()  # written: commit, resume
    assert not sink.paused and consumer.paused == set()
    assert consumer.commits == [({0: 12, 1: 5}, 3)]  # the next offsets, and the 3 rows were already in
    sink.step()
    assert consumer.commits[-1] == ({1: 6}, 4)
    assert sink.stats() == {
        "received": 4,
        "written": 4,
        "duplicates": 0,
        "collisions": 0,
        "undecodable": 0,
        "invalid": 0,
        "dead_letters": 0,
        "tombstones": 0,
        "erased": 0,
        "suppressed": 0,
        "db_failures": 2,
        "commits": 2,
        "commit_failures": 0,
        "kafka_errors": 0,
        "pending": 0,
    }


def test_undecodable_and_invalid_records_are_dead_lettered_and_committed_past(tmp_path: Path) -> None:
    batch = [
        FakeRecord(0, 0, b"not json"),
        FakeRecord(0, 1, b'{"schema_version": 99}'),
        record(0, 2, make_event("x" * 65, 0)),  # longer than any camera id column
        FakeRecord(0, 3, None, key=b"door"),  # a null value that names no face
        record(0, 4, make_event("ok", 0)),
    ]
    sink, consumer, database = sink_with(tmp_path, [batch])
    sink.step()
    stats = sink.stats()
    assert (stats["undecodable"], stats["invalid"], stats["dead_letters"], stats["written"]) == (3, 1, 4, 1)
    assert consumer.commits == [({0: 5}, 1)] and database.rows() == 1
    store = open_sqlite_store(database.path)
    letters = store.read_dead_letters()
    store.close()
    assert [(d.source, d.position) for d in letters] == [(f"kafka:{TOPIC}", f"0@{n}") for n in range(4)]
    assert [d.reason.split(":")[0] for d in letters] == [
        "event record is not JSON",
        "event schema version 99, this code reads 1",
        "event record has a malformed field",
        "null value under key b'door'",
    ]
    assert letters[0].payload == b"not json" and letters[3].payload == b""


def test_a_collision_is_reported_and_a_tombstone_erases_the_face(tmp_path: Path) -> None:
    first = make_event("a", 0)
    other = FaceEvent(**{**vars(first), "face_id": 99})
    batches = [
        [record(0, 0, first), record(0, 1, make_event("a", 1))],
        [record(0, 2, first), record(0, 3, other)],
        [FakeRecord(1, 0, None, key=f"face:{first.face_id}".encode()), record(0, 4, first)],
    ]
    sink, consumer, database = sink_with(tmp_path, batches)
    for _ in batches:
        sink.step()
    stats = sink.stats()
    assert (stats["written"], stats["duplicates"], stats["collisions"]) == (2, 1, 1)
    assert (stats["tombstones"], stats["erased"], stats["suppressed"], stats["dead_letters"]) == (1, 1, 1, 1)
    assert consumer.commits[-1] == ({0: 5, 1: 1}, 1)
    store = open_sqlite_store(database.path)
    assert [e.face_id for e in store.read_events()] == [make_event("a", 1).face_id]
    [letter] = store.read_dead_letters()  # the colliding event's: face 99, not the erased face
    assert letter.face_id == 99 and letter.reason.endswith("is stored with other face_id")
    store.close()


def test_a_replayed_batch_adds_no_rows(tmp_path: Path) -> None:
    batch = [record(0, n, make_event("a", n)) for n in range(5)]
    sink, consumer, database = sink_with(tmp_path, [batch, batch])
    sink.step()
    sink.step()
    assert database.rows() == 5 and sink.stats()["duplicates"] == 5 and sink.stats()["collisions"] == 0
    assert [c[0] for c in consumer.commits] == [{0: 5}, {0: 5}]


def test_revoked_partitions_are_not_committed_while_the_database_is_down(tmp_path: Path) -> None:
    batch = [record(0, 0, make_event("a", 0)), record(1, 0, make_event("b", 0))]
    sink, consumer, _ = sink_with(tmp_path, [batch], failures=2)
    sink.step()
    sink.on_revoke(consumer, [TopicPartition(TOPIC, 1)])  # its new owner re-reads partition 1
    consumer.partitions = {0}
    sink.step()
    assert consumer.commits == [({0: 1}, 2)]  # partition 1's event is written too: harmless


def test_a_database_error_no_retry_fixes_stops_without_committing(tmp_path: Path) -> None:
    def newer_schema() -> EventStore:
        raise SchemaVersionError("database schema version 9 is newer than this code's 3")

    consumer = FakeConsumer([[record(0, 0, make_event("a", 0))]], lambda: 0)
    sink = EventsToDatabase(consumer, newer_schema, retry_interval_s=0.0)
    with pytest.raises(DatabaseRefused, match="SchemaVersionError: database schema version 9"):
        sink.step()
    sink.close(commit=False)
    assert consumer.commits == [] and sink.stats()["db_failures"] == 1 and sink.pending == 1


# --- the real command against tansu and MariaDB ---------------------------------------------


def test_killed_mid_stream_and_restarted_every_event_lands_exactly_once(
    kafka_broker: LocalBroker, mariadb: str, mysql_store: EventStore, tmp_path: Path
) -> None:
    topic = unique("events")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [events_topic(topic, partitions=3)])
    events = events_of(["door", "till", "aisle"], 500)
    produce(kafka_broker.bootstrap, topic, [encode_event(e) for e in events])
    sink = EventsToDb(tmp_path / "events_to_db.log", kafka_broker.bootstrap, topic, unique("g"), mariadb)
    try:
        sink.start()
        assert wait_until(lambda: mysql_store.count_events() >= len(events) // 4, 60, poll_s=0.01), sink.log()
        sink.kill()  # SIGKILL: no last write, no last commit, no group leave
        time.sleep(0.2)  # a COMMIT the server received before the kill still completes
        rows_at_kill = mysql_store.count_events()
        assert rows_at_kill < len(events), "the kill came after the last event: nothing was tested"
        sink.start("--exit-when-idle-s", "2")  # a catch-up run: it exits once the topic is drained
        assert sink.process.wait(timeout=90) == 0, sink.log()
        stats = exit_counters(sink.log(), "stats: ")
    finally:
        sink.kill()
    stored = mysql_store.read_events()
    print(f"\nkilled at {rows_at_kill}/{len(events)} rows; the restarted run: {stats}")
    assert len(stored) == len(events) and {key(e) for e in stored} == {key(e) for e in events}
    assert sorted(stored, key=key) == sorted(events, key=key)
    # The restart resumed from the committed offsets: it re-read at most the batch per partition
    # whose offsets the kill left uncommitted, not the stream.
    assert stats["received"] == len(events) - rows_at_kill + stats["duplicates"]
    assert stats["duplicates"] <= 3 * 25 and stats["pending"] == 0


@pytest.fixture
def restartable_mariadb() -> Iterator[Callable[[bool], str]]:
    """``switch(True)`` starts (or restarts) a MariaDB of this test's own on a fixed port and
    data directory and returns its DSN; ``switch(False)`` shuts it down cleanly."""
    port, password = free_port(), uuid.uuid4().hex
    env = {**os.environ, "MARIADB_PASSWORD": password}
    workdir = tempfile.TemporaryDirectory(prefix="mariadb-restart-")  # short: it holds the socket
    server: list[subprocess.Popen] = []

    def switch(on: bool) -> str:
        if not on:
            stopping = server.pop()
            stopping.terminate()
            assert stopping.wait(timeout=30) == 0
            return ""
        process = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "start_mariadb.sh"), "--dir", workdir.name, "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        server.append(process)
        dsn = first_line(process, timeout_s=60.0)
        assert dsn.startswith("mysql://"), "MariaDB did not start (scripts/start_mariadb.sh)"
        return dsn

    yield switch
    for process in server:
        process.terminate()
        process.wait(timeout=30)
    workdir.cleanup()


def test_a_store_of_another_schema_stops_the_command_with_one_line_and_exit_1(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    topic = unique("events")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [events_topic(topic, partitions=1)])
    produce(kafka_broker.bootstrap, topic, [encode_event(make_event("door", 0))])
    database = tmp_path / "events.sqlite"
    open_sqlite_store(database).close()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    connection.close()
    sink = EventsToDb(
        tmp_path / "events_to_db.log", kafka_broker.bootstrap, topic, unique("g"), str(database)
    )
    sink.start()
    assert sink.process.wait(timeout=60) == 1, sink.log()
    log = sink.log()
    assert "no retry can fix, stopping: SchemaVersionError: database schema version 99" in log
    assert "exiting with 1 records not written; they stay in Kafka" in log
    assert "Traceback" not in log and exit_counters(log, "stats: ")["commits"] == 0


def test_database_down_then_up_pauses_retries_and_loses_nothing(
    kafka_broker: LocalBroker, restartable_mariadb: Callable[[bool], str], tmp_path: Path
) -> None:
    topic = unique("events")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [events_topic(topic, partitions=2)])
    dsn = restartable_mariadb(True)
    store = open_store(dsn)
    sink = EventsToDb(tmp_path / "events_to_db.log", kafka_broker.bootstrap, topic, unique("g"), dsn)
    before, during = events_of(["door"], 50), events_of(["door", "till"], 75, start=50)
    try:
        sink.start()
        produce(kafka_broker.bootstrap, topic, [encode_event(e) for e in before])
        assert wait_until(lambda: store.count_events() == len(before), 60), sink.log()
        store.close()
        restartable_mariadb(False)
        produce(kafka_broker.bootstrap, topic, [encode_event(e) for e in during])
        produce(kafka_broker.bootstrap, topic, [(b"door", b"not an event"), (b"till", b"{}")])
        assert wait_until(lambda: "consumption paused" in sink.log(), 30), sink.log()
        time.sleep(1.5)  # a few retries while down
        assert restartable_mariadb(True) == dsn
        store = open_store(dsn)
        assert wait_until(lambda: store.count_events() == len(before) + len(during), 60), sink.log()
        stats = sink.stop()
        stored = store.read_events()
    finally:
        sink.kill()
        store.close()
    log = sink.log()
    print(f"\ndatabase outage: {stats}")
    assert {key(e) for e in stored} == {key(e) for e in before + during} and len(stored) == 400
    assert "database unavailable, consumption paused" in log and "database reachable again" in log
    assert stats["db_failures"] >= 2 and stats["undecodable"] == 2 and stats["pending"] == 0
    assert stats["received"] == 402 and stats["written"] == 400 and stats["duplicates"] == 0
    assert urlsplit(dsn).password not in log  # the password came from the environment, never logged
