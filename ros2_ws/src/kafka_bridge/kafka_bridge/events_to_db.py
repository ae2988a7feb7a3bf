"""events_to_db: the Kafka events topic into the SQL event store (MySQL in production), exactly once per row.

Run: ``FACE_DB_PASSWORD=... events_to_db --bootstrap-servers broker:9092 --database mysql://faces@db:3306/faces``.

A plain process, not a ROS node: it joins Kafka to SQL and touches no ROS topic, so it runs on
the database host or any server without ROS, and its life is a process's (systemd restarts it,
``kill -9`` is a crash it must survive). It consumes as a member of consumer group ``--group-id``
(several instances share the partitions) with ``enable.auto.commit`` off, and for each batch:

1. reads each record (``event_record``): an event, validated against the schema; a tombstone
   (key ``face:<id>``, null value): erase that face ID; a camera's hourly counts (aggregates-only
   mode): they replace that camera's hour in ``face_hourly_counts``; anything else (not JSON, an unknown
   version, a missing field, a wrong type, a value out of its column's range) becomes a dead
   letter with the reason: counted, logged, never written clipped, never a crash;
2. applies the batch in its order in ONE database transaction (``EventStore.apply``): events,
   dead letters into ``face_dead_letters``, erasures; an event whose key is stored with other
   content is a collision, dead-lettered and logged as an error, not counted as a duplicate;
3. commits the batch's Kafka offsets, only after the database commit.

A crash between 2 and 3 re-delivers the batch and every part of it is idempotent: rows are keyed
by ``(camera_id, stamp_ns, face_index)`` (an identical replay adds nothing), dead letters by topic,
partition and offset, and erasures are recorded in ``face_erasures`` so a re-read event of an
erased face is skipped: at-least-once delivery gives every event exactly one row, or none after
its erasure. When the database is down the batch stays in memory, consumption of the assigned
partitions is paused (the events wait in Kafka, which keeps them for the topic's retention, a week
by default), the write is retried every ``--retry-interval-s``, and consumption resumes once it
succeeds. A database error no retry can fix (``mysql_store.is_transient_error``: a table of another
schema, access denied) stops the process with one line and exit status 1 instead, the batch's
offsets uncommitted: the records wait in Kafka for the start after the fix. Counters are logged as
one ``stats: name=value ...`` line every ``--stats-period-s`` and at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from types import FrameType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from face_common.faces import FaceEvent
from face_sink.mysql_store import (
    DatabaseUrlError,
    describe_database,
    is_transient_error,
    open_store,
    parse_mysql_url,
    sqlite_path,
)
from face_sink.schema import BatchOutcome, DeadLetter, Erasure, EventStore, HourlyCounts, Incoming

from kafka_bridge.connection import ConnectionConfigError, client_config, describe
from kafka_bridge.event_record import EventRecordError, InvalidEventRecord, decode_record, erased_face_id
from kafka_bridge.topics import EVENTS_TOPIC, ensure_topics, events_topic

DATABASE_URL_ENV = "FACE_DATABASE_URL"
DEFAULT_GROUP = "events_to_db"
LOG_EVERY_S = 5.0

log = logging.getLogger("events_to_db")

StoreItem = Incoming | DeadLetter | Erasure | HourlyCounts


class DatabaseRefused(RuntimeError):
    """A database error that every retry would repeat: stop, the records stay in Kafka."""


@dataclass
class SinkCounters:
    """Every counter of the ``stats:`` line but ``pending``."""

    received: int = 0
    """Records consumed: events, tombstones, hourly counts and bad records."""
    written: int = 0
    """New event rows, and hourly-count records (each replaces its camera's hour, a replay too)."""
    duplicates: int = 0
    """Events stored before with the same content (replays): harmless."""
    collisions: int = 0
    """Events whose key is stored with other content: dead-lettered, an error."""
    undecodable: int = 0
    invalid: int = 0
    """Event records with values the schema refuses (types, ranges)."""
    dead_letters: int = 0
    """New rows in face_dead_letters (re-delivered records add none)."""
    tombstones: int = 0
    erased: int = 0
    """Event rows the tombstones removed."""
    suppressed: int = 0
    """Events of erased face IDs, not written."""
    db_failures: int = 0
    commits: int = 0
    commit_failures: int = 0
    kafka_errors: int = 0


class LogThrottle:
    """Lets a repeated message through once per ``period_s`` per kind, so an outage is not a log flood."""

    def __init__(self, period_s: float = LOG_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._period_s = period_s
        self._clock = clock
        self._last: dict[str, float] = {}

    def __call__(self, kind: str) -> bool:
        now = self._clock()
        if now - self._last.get(kind, -self._period_s) < self._period_s:
            return False
        self._last[kind] = now
        return True


class EventsToDatabase:
    """Consume, read, apply, then commit offsets (module docstring); :meth:`step` is one round.

    ``consumer`` is a ``confluent_kafka.Consumer`` subscribed with :meth:`on_assign` and
    :meth:`on_revoke` as its rebalance callbacks; ``open_store`` opens the event store, again
    after every failure (a connection that failed may be half-broken).
    """

    def __init__(
        self,
        consumer: Any,
        open_store: Callable[[], EventStore],
        batch_size: int = 500,
        poll_timeout_s: float = 0.5,
        retry_interval_s: float = 2.0,
        throttle: LogThrottle | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.retry_interval_s = retry_interval_s
        self.counters = SinkCounters()
        self.paused = False
        self._open_store = open_store
        self._store: EventStore | None = None
        self._clock = clock
        self._next_attempt = 0.0
        self._pending: list[StoreItem] = []
        """What was read and is not in the database yet, in log order."""
        self._closing = False
        self._last_activity: float | None = None
        """When partitions were last assigned or records last arrived (None: never assigned)."""
        self._offsets: dict[tuple[str, int], int] = {}
        """Next offset to commit per partition: everything before it is in the database."""
        self._throttle = throttle or LogThrottle()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def step(self) -> None:
        """Take one batch (none while paused), write what is pending, commit when it is written."""
        if self.paused:
            # Partitions assigned since the pause must wait too; consume() still serves the
            # group (heartbeats, rebalances) but returns nothing from paused partitions.
            self.consumer.pause(self.consumer.assignment())
        self._take(self.consumer.consume(self.batch_size, timeout=self.poll_timeout_s))
        if not self._pending or self._write():
            self._commit()

    def idle_s(self, now: float) -> float:
        """Seconds since the last record or assignment; 0 before the group assigned anything."""
        return 0.0 if self._last_activity is None else now - self._last_activity

    def on_assign(self, _consumer: Any, _partitions: list[TopicPartition]) -> None:
        self._last_activity = time.monotonic()

    def _take(self, records: Sequence[Message]) -> None:
        if records:
            self._last_activity = time.monotonic()
        for record in records:
            error = record.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    self.counters.kafka_errors += 1
                    if self._throttle("kafka"):
                        log.warning(
                            "consumer: %s (%d Kafka errors so far)", error.str(), self.counters.kafka_errors
                        )
                continue
            self.counters.received += 1
            self._offsets[(record.topic(), record.partition())] = record.offset() + 1
            self._pending.append(self._read(record))

    def _read(self, record: Message) -> StoreItem:
        """The record as what the store does with it; a bad record becomes its dead letter."""
        source, position = f"kafka:{record.topic()}", f"{record.partition()}@{record.offset()}"
        value = record.value()
        try:
            if value is None:
                return self._tombstone(record.key())
            read = decode_record(value)
            return Incoming(read, source, position, value) if isinstance(read, FaceEvent) else read
        except EventRecordError as err:
            kind = "invalid" if isinstance(err, InvalidEventRecord) else "undecodable"
            setattr(self.counters, kind, getattr(self.counters, kind) + 1)
            if self._throttle(kind):
                log.warning(
                    "record %s[%d]@%d to the dead letters (%d %s so far): %s",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    getattr(self.counters, kind),
                    kind,
                    err,
                )
            return DeadLetter(source, position, str(err), value or b"", time.time_ns())

    def _tombstone(self, key: bytes | None) -> Erasure:
        face_id = erased_face_id(key)
        if face_id is None:
            raise EventRecordError(
                f"null value under key {(key or b'')[:80]!r}: no event, no face:<id> tombstone"
            )
        self.counters.tombstones += 1
        return Erasure(face_id)

    def _write(self, force: bool = False) -> bool:
        """Apply the pending batch in one transaction; False while the database is unavailable
        (consumption is paused, the batch kept for the next attempt)."""
        if not force and self._clock() < self._next_attempt:
            return False
        try:
            if self._store is None:
                self._store = self._open_store()
            outcome = self._store.apply(self._pending)
        except Exception as exc:  # classified: down, locked or busy is retried; the rest stops us
            self.counters.db_failures += 1
            self._next_attempt = self._clock() + self.retry_interval_s
            self._drop_store()
            if not is_transient_error(exc):
                raise DatabaseRefused(f"{type(exc).__name__}: {exc}") from exc
            self._pause(f"{type(exc).__name__}: {exc}")
            return False
        erased_ids = sorted({item.face_id for item in self._pending if isinstance(item, Erasure)})
        self._pending.clear()
        self._count(outcome, erased_ids)
        if self.paused:
            self.paused = False
            self.consumer.resume(self.consumer.assignment())
            log.info(
                "database reachable again after %d failed attempts: %d new rows, consumption resumed",
                self.counters.db_failures,
                outcome.inserted,
            )
        return True

    def _pause(self, error: str) -> None:
        if not self.paused:
            self.paused = True
            self.consumer.pause(self.consumer.assignment())
            log.error(
                "database unavailable, consumption paused with %d records waiting "
                "(offsets not committed, retrying): %s",
                len(self._pending),
                error,
            )
        elif self._throttle("db"):
            log.error(
                "database still unavailable (%d failed attempts, %d records waiting): %s",
                self.counters.db_failures,
                len(self._pending),
                error,
            )

    def _count(self, outcome: BatchOutcome, erased_ids: list[int]) -> None:
        counters = self.counters
        counters.written += outcome.inserted + outcome.hours
        counters.duplicates += outcome.duplicates
        counters.collisions += len(outcome.collisions)
        counters.dead_letters += outcome.dead_letters
        counters.suppressed += outcome.suppressed
        counters.erased += outcome.erased_events
        for letter in outcome.collisions:
            if self._throttle("collision"):
                log.error(
                    "%s %s to the dead letters (%d collisions so far): %s",
                    letter.source,
                    letter.position,
                    counters.collisions,
                    letter.reason,
                )
        if erased_ids:
            log.info("erased face IDs %s: %d event rows removed", erased_ids, outcome.erased_events)
        if outcome.suppressed and self._throttle("suppressed"):
            log.info(
                "%d events of erased face IDs not written (%d so far)",
                outcome.suppressed,
                counters.suppressed,
            )

    def _drop_store(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may itself fail
                self._store.close()
            self._store = None

    def _commit(self) -> None:
        if not self._offsets:
            return
        offsets = [
            TopicPartition(topic, partition, offset) for (topic, partition), offset in self._offsets.items()
        ]
        self._offsets.clear()
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
            self.counters.commits += 1
        except KafkaException as err:
            # The rows are in; a later commit or, at worst, a harmless replay covers these offsets.
            self.counters.commit_failures += 1
            if self._throttle("commit"):
                log.warning("offset commit failed (%d so far): %s", self.counters.commit_failures, err)

    def on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        """Before partitions go to another instance: write and commit what was read from them.

        If the database is down, their offsets are forgotten instead: the new owner re-reads
        those records, and writing them here later too is harmless (idempotent rows).
        """
        if self._closing:  # close() has already written and committed what it could
            return
        if not self._pending or self._write(force=True):
            self._commit()
        else:
            for partition in partitions:
                self._offsets.pop((partition.topic, partition.partition), None)

    def stats(self) -> dict[str, int]:
        """Every counter, for the ``stats:`` log line."""
        return {**asdict(self.counters), "pending": len(self._pending)}

    def close(self, commit: bool = True) -> None:
        """Last write and commit (unless ``commit`` is False), then leave the group."""
        if commit and (not self._pending or self._write(force=True)):
            self._commit()
        elif self._pending:
            log.error(
                "exiting with %d records not written; they stay in Kafka for the next run", len(self._pending)
            )
        self._closing = True
        self.consumer.close()
        self._drop_store()


def check_database_url(url: str) -> None:
    """Refuse now a setting no retry could ever open (a typo must not look like an outage)."""
    if sqlite_path(url) is None:
        parse_mysql_url(url, env={})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="events_to_db", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap-servers", default="", help="Kafka brokers (default: $KAFKA_BOOTSTRAP_SERVERS)"
    )
    parser.add_argument(
        "--kafka-config-file",
        default="",
        help="librdkafka properties file, SASL/SSL (default: $KAFKA_CONFIG_FILE)",
    )
    parser.add_argument("--topic", default=EVENTS_TOPIC, help="events topic (default %(default)s)")
    parser.add_argument("--group-id", default=DEFAULT_GROUP, help="consumer group (default %(default)s)")
    parser.add_argument(
        "--database",
        default=os.environ.get(DATABASE_URL_ENV, ""),
        help=f"mysql://user@host:port/db (password in $FACE_DB_PASSWORD), sqlite:///path or a file "
        f"(default: ${DATABASE_URL_ENV})",
    )
    parser.add_argument("--batch-size", type=int, default=500, help="events per transaction at most")
    parser.add_argument("--retry-interval-s", type=float, default=2.0, help="between database retries")
    parser.add_argument(
        "--session-timeout-ms", type=int, default=10_000, help="consumer group session timeout"
    )
    parser.add_argument(
        "--partitions", type=int, default=6, help="partitions of the topic if this creates it"
    )
    parser.add_argument("--no-create-topic", action="store_true", help="never create the events topic")
    parser.add_argument(
        "--exit-when-idle-s",
        type=float,
        default=0.0,
        help="exit once no event came for this long after joining (a catch-up run); 0: run until stopped",
    )
    parser.add_argument(
        "--stats-period-s", type=float, default=10.0, help="counter log period; 0: only at exit"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("mysql.connector").setLevel(logging.WARNING)  # it logs its plugins on every connect
    try:
        if not args.database:
            raise DatabaseUrlError(f"no database: pass --database or set ${DATABASE_URL_ENV}")
        check_database_url(args.database)
        settings = client_config(args.bootstrap_servers, args.kafka_config_file)
    except (DatabaseUrlError, ConnectionConfigError) as err:
        log.error("%s", err)
        return 1
    if not args.no_create_topic:
        try:
            ensure_topics(settings, [events_topic(args.topic, args.partitions)], timeout_s=5.0)
        except KafkaException as err:
            log.warning("could not check/create topic %s (the broker may come later): %s", args.topic, err)

    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)

    throttle = LogThrottle()

    def on_kafka_error(err: KafkaError) -> None:
        if throttle("client"):
            log.warning("Kafka: %s", err.str())

    consumer = Consumer(
        {
            "group.id": args.group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",  # a new group starts at the oldest kept event
            "session.timeout.ms": args.session_timeout_ms,
            "error_cb": on_kafka_error,
            **settings,
        }
    )
    sink = EventsToDatabase(
        consumer,
        lambda: open_store(args.database),
        args.batch_size,
        retry_interval_s=args.retry_interval_s,
        throttle=throttle,
    )
    consumer.subscribe([args.topic], on_assign=sink.on_assign, on_revoke=sink.on_revoke)
    log.info(
        "Kafka: %s, topic %s, group %s -> %s",
        describe(settings),
        args.topic,
        args.group_id,
        describe_database(args.database),
    )

    def report() -> None:
        log.info("stats: %s", " ".join(f"{name}={value}" for name, value in sink.stats().items()))

    next_report = time.monotonic() + args.stats_period_s
    status = 0
    try:
        while not stop_requested:
            sink.step()
            idle_s = sink.idle_s(time.monotonic())
            if 0 < args.exit_when_idle_s <= idle_s and not sink.pending:
                log.info("no event for %.1f s: caught up, exiting", idle_s)
                break
            if args.stats_period_s > 0 and time.monotonic() >= next_report:
                report()
                next_report += args.stats_period_s
    except DatabaseRefused as err:
        log.error("database error that no retry can fix, stopping: %s", err)
        status = 1
    finally:
        sink.close(commit=status == 0)
        report()
    return status


if __name__ == "__main__":
    sys.exit(main())
