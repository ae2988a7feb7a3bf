"""events_to_db: the Kafka events topic into the SQL event store (MySQL in production), exactly once per row.

Run: ``FACE_DB_PASSWORD=... events_to_db --bootstrap-servers broker:9092 --database mysql://faces@db:3306/faces``.

A plain process, not a ROS node: it joins Kafka to SQL and touches no ROS topic, so it runs on
the database host or any server without ROS, and its life is a process's (systemd restarts it,
``kill -9`` is a crash it must survive). It consumes as a member of consumer group ``--group-id``
(several instances share the partitions) with ``enable.auto.commit`` off, and for each batch:

1. decodes the records with ``event_record.decode_event`` (undecodable ones are counted, logged
   and skipped: they can never become rows, so they are committed past);
2. writes the events in ONE database transaction through ``face_sink``'s ``RetryingEventWriter``
   and ``EventStore`` (the schema module the SQLite sink uses);
3. commits the batch's Kafka offsets, only after the database commit.

A crash between 2 and 3 re-delivers the batch; rows are keyed by ``(camera_id, stamp_ns,
face_index)`` and inserted with insert-ignore, so the replay adds nothing: at-least-once
delivery plus idempotent rows gives every event exactly one row. When the database is down the
batch stays in memory, consumption of the assigned partitions is paused (the events wait in
Kafka, which keeps them for the topic's retention, a week by default), the write is retried every
``--retry-interval-s``, and consumption resumes once it succeeds. Counters are logged as one
``stats: name=value ...`` line every ``--stats-period-s`` and at exit.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from face_sink.mysql_store import (
    DatabaseUrlError,
    describe_database,
    open_store,
    parse_mysql_url,
    sqlite_path,
)
from face_sink.writer import RetryingEventWriter

from kafka_bridge.connection import ConnectionConfigError, client_config, describe
from kafka_bridge.event_record import EventRecordError, decode_event
from kafka_bridge.topics import EVENTS_TOPIC, ensure_topics, events_topic

DATABASE_URL_ENV = "FACE_DATABASE_URL"
DEFAULT_GROUP = "events_to_db"
LOG_EVERY_S = 5.0

log = logging.getLogger("events_to_db")


class PendingOverflow(RuntimeError):
    """The writer refused an event: stop before its offset could be committed (restart re-reads it)."""


@dataclass
class SinkCounters:
    """What this process counts itself; the writer counts rows, duplicates, invalid events and failures."""

    received: int = 0
    """Records consumed (events and undecodable ones)."""
    undecodable: int = 0
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
    """Consume, decode, write, then commit offsets (module docstring); :meth:`step` is one round.

    ``consumer`` is a ``confluent_kafka.Consumer`` subscribed with :meth:`on_assign` and
    :meth:`on_revoke` as its rebalance callbacks; ``writer`` owns the database connection.
    """

    def __init__(
        self,
        consumer: Any,
        writer: RetryingEventWriter,
        batch_size: int = 500,
        poll_timeout_s: float = 0.5,
        throttle: LogThrottle | None = None,
    ) -> None:
        self.consumer = consumer
        self.writer = writer
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.counters = SinkCounters()
        self.paused = False
        self._closing = False
        self._last_activity: float | None = None
        """When partitions were last assigned or records last arrived (None: never assigned)."""
        self._offsets: dict[tuple[str, int], int] = {}
        """Next offset to commit per partition: everything before it is in the database or undecodable."""
        self._throttle = throttle or LogThrottle()

    def step(self) -> None:
        """Take one batch (none while paused), write what is pending, commit when it is written."""
        if self.paused:
            # Partitions assigned since the pause must wait too; consume() still serves the
            # group (heartbeats, rebalances) but returns nothing from paused partitions.
            self.consumer.pause(self.consumer.assignment())
        self._take(self.consumer.consume(self.batch_size, timeout=self.poll_timeout_s))
        self._write_and_commit()

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
            try:
                event = decode_event(record.value())
            except EventRecordError as err:
                self.counters.undecodable += 1
                if self._throttle("undecodable"):
                    log.warning(
                        "record %s[%d]@%d skipped (%d undecodable so far): %s",
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        self.counters.undecodable,
                        err,
                    )
                continue
            dropped_before = self.writer.counters.dropped
            for problem in self.writer.submit([event]):
                if self.writer.counters.dropped > dropped_before:
                    raise PendingOverflow(f"{problem}: exiting without committing its offset")
                if self._throttle("invalid"):
                    log.warning(
                        "record %s[%d]@%d skipped (%d invalid so far): %s",
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        self.writer.counters.invalid,
                        problem,
                    )

    def _write_and_commit(self) -> None:
        if self.writer.pending:
            result = self.writer.flush()
            if result.error is not None:
                if not self.paused:
                    self.paused = True
                    self.consumer.pause(self.consumer.assignment())
                    log.error(
                        "database unavailable, consumption paused with %d events waiting "
                        "(offsets not committed, retrying): %s",
                        self.writer.pending,
                        result.error,
                    )
                elif self._throttle("db"):
                    log.error(
                        "database still unavailable (%d failed attempts, %d events waiting): %s",
                        self.writer.counters.failures,
                        self.writer.pending,
                        result.error,
                    )
                return
            if self.writer.pending:  # waiting out the retry interval
                return
            if self.paused:
                self.paused = False
                self.consumer.resume(self.consumer.assignment())
                log.info(
                    "database reachable again after %d failed attempts: wrote %d events (%d new), "
                    "consumption resumed",
                    self.writer.counters.failures,
                    result.written,
                    result.inserted,
                )
        self._commit()

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
        those events, and writing them here later too is harmless (idempotent rows).
        """
        if self._closing:  # close() has already written and committed what it could
            return
        if self.writer.pending:
            self.writer.flush(force=True)
        if self.writer.pending:
            for partition in partitions:
                self._offsets.pop((partition.topic, partition.partition), None)
        else:
            self._commit()

    def stats(self) -> dict[str, int]:
        """Every counter, for the ``stats:`` log line."""
        writer = self.writer.counters
        return {
            "received": self.counters.received,
            "written": writer.inserted,
            "duplicates": writer.duplicates,
            "undecodable": self.counters.undecodable,
            "invalid": writer.invalid,
            "pending": self.writer.pending,
            "db_failures": writer.failures,
            "commits": self.counters.commits,
            "commit_failures": self.counters.commit_failures,
            "kafka_errors": self.counters.kafka_errors,
        }

    def close(self, commit: bool = True) -> None:
        """Last write and commit (unless ``commit`` is False), then leave the group."""
        if commit:
            if self.writer.pending:
                self.writer.flush(force=True)
            if self.writer.pending:
                log.error(
                    "exiting with %d events not written; they stay in Kafka for the next run",
                    self.writer.pending,
                )
            else:
                self._commit()
        self._closing = True
        self.consumer.close()
        self.writer.close()


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
    writer = RetryingEventWriter(
        lambda: open_store(args.database),
        max_pending=100 * args.batch_size,
        retry_interval_s=args.retry_interval_s,
    )
    sink = EventsToDatabase(consumer, writer, args.batch_size, throttle=throttle)
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
            if 0 < args.exit_when_idle_s <= idle_s and not writer.pending:
                log.info("no event for %.1f s: caught up, exiting", idle_s)
                break
            if args.stats_period_s > 0 and time.monotonic() >= next_report:
                report()
                next_report += args.stats_period_s
    except PendingOverflow as err:
        log.error("%s", err)
        status = 1
    finally:
        sink.close(commit=status == 0)
        report()
    return status


if __name__ == "__main__":
    sys.exit(main())
