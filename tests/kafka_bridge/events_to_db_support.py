"""What the events_to_db tests share: test events, a fake consumer over a SQLite store (the commit
protocol as pure logic) and the real command as a process against tansu and MariaDB."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from confluent_kafka import Producer, TopicPartition
from face_common.faces import Box, FaceEvent
from face_sink.mysql_store import PASSWORD_ENV
from face_sink.schema import EventStore, open_sqlite_store
from graph_launcher.command_line import resolve_executable
from kafka_bridge.event_record import encode_event
from kafka_bridge.events_to_db import EventsToDatabase
from ros_processes import exit_counters

GROUP_SESSION_MS = 6000  # tansu joins a group after about half of it
T0_NS = 1_764_000_000_000_000_000
TOPIC = "face_events"


def make_event(camera: str, n: int, index: int = 0) -> FaceEvent:
    return FaceEvent(
        camera, T0_NS + n * 83_333_333, index, 1 + n % 7, 20.0 + n % 50, "male", Box(n, 1, 2, 3), 0.3, False
    )


def key(event: FaceEvent) -> tuple[str, int, int]:
    return event.camera_id, event.stamp_ns, event.face_index


class FakeRecord:
    def __init__(self, partition: int, offset: int, value: bytes | None, key: bytes = b"cam") -> None:
        self._partition, self._offset, self._value, self._key = partition, offset, value, key

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes | None:
        return self._value

    def key(self) -> bytes:
        return self._key


class FakeConsumer:
    """Hands out prepared batches; records commits together with what the database held then."""

    def __init__(self, batches: Sequence[Sequence[FakeRecord]], rows_now: Callable[[], int]) -> None:
        self.batches = list(batches)
        self.rows_now = rows_now
        self.partitions = {0, 1}
        self.paused: set[int] = set()
        self.commits: list[tuple[dict[int, int], int]] = []

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, p) for p in sorted(self.partitions)]

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused |= {p.partition for p in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused -= {p.partition for p in partitions}

    def consume(self, num_messages: int, timeout: float) -> list[FakeRecord]:
        if self.paused or not self.batches:
            return []
        return list(self.batches.pop(0))

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert not asynchronous
        self.commits.append(({tp.partition: tp.offset for tp in offsets}, self.rows_now()))

    def close(self) -> None:
        pass


class FlakyDatabase:
    """Opens the SQLite store, except for the first ``failures`` attempts (the database is down)."""

    def __init__(self, path: Path, failures: int) -> None:
        self.path, self.failures = path, failures

    def __call__(self) -> EventStore:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("database down")
        return open_sqlite_store(self.path)

    def rows(self) -> int:
        store = open_sqlite_store(self.path)
        try:
            return store.count_events()
        finally:
            store.close()


def sink_with(tmp_path: Path, batches: Sequence[Sequence[FakeRecord]], failures: int = 0) -> tuple:
    database = FlakyDatabase(tmp_path / "events.sqlite", failures)
    consumer = FakeConsumer(batches, database.rows)
    return EventsToDatabase(consumer, database, retry_interval_s=0.0), consumer, database


def record(partition: int, offset: int, event: FaceEvent) -> FakeRecord:
    return FakeRecord(partition, offset, encode_event(event)[1])


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def produce(bootstrap: str, topic: str, values: Sequence[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for record_key, value in values:
        producer.produce(topic, value, record_key)
        producer.poll(0)
    assert producer.flush(20) == 0


def events_of(cameras: Sequence[str], frames: int, start: int = 0) -> list[FaceEvent]:
    """Two faces per frame of each camera."""
    return [make_event(c, n, i) for n in range(start, start + frames) for c in cameras for i in range(2)]


def split_dsn(dsn: str) -> tuple[str, str]:
    """The DSN without its password, and the password: the command gets it from the environment."""
    parts = urlsplit(dsn)
    return parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl(), parts.password


class EventsToDb:
    """The ``events_to_db`` command as a process, its log in a file."""

    def __init__(self, log_path: Path, bootstrap: str, topic: str, group: str, dsn: str) -> None:
        self.log_path = log_path
        url, password = split_dsn(dsn) if dsn.startswith("mysql://") else (dsn, "")
        self.args = [
            resolve_executable("face_analytics", "events_to_db"),
            *("--bootstrap-servers", bootstrap, "--topic", topic, "--group-id", group, "--database", url),
            *("--batch-size", "25", "--retry-interval-s", "0.5", "--stats-period-s", "1"),
            *("--session-timeout-ms", str(GROUP_SESSION_MS), "--partitions", "3"),
        ]
        self.env = {**os.environ, PASSWORD_ENV: password}
        self.process: subprocess.Popen | None = None

    def start(self, *extra_args: str) -> None:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [*self.args, *extra_args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> dict[str, int]:
        """SIGTERM, a clean exit, and the counters of this run's last stats line."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, self.log()
        return exit_counters(self.log(), "stats: ")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
