"""Writing events through a durable spool that survives a database outage and a crash of the sink.

The sink must not lose events it has accepted: not while the database is briefly unavailable (a
locked SQLite file, a MySQL restart, a directory not yet mounted), nor when its process dies. An
event counts as accepted once it is in the spool (``face_sink.spool``, fsynced); it leaves the
spool only after the database committed it, and a restarted sink writes what the last one left.
Writes are idempotent (the natural key), so a batch that landed just before a crash, or retried
after a connection lost mid-commit, is written again without a second row. The spool is bounded:
when full, new events are refused and counted, never accepted ones evicted.

Database errors are of two kinds (``mysql_store.is_transient_error``): transient ones (unreachable,
locked, deadlock) are retried every ``retry_interval_s``; a permanent one (a table of another
schema, access denied, data the table refuses) would fail on every retry, so the flush reports it
and the caller stops, the events kept in the spool for the start after the fix.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from face_common.faces import FaceEvent
from face_common.settings import setting

from face_sink.mysql_store import is_transient_error
from face_sink.schema import DEFAULT_SQLITE_PATH, EventStore, event_row
from face_sink.spool import DEFAULT_SPOOL_PATH, MEMORY, Spool
from face_sink.visits import DEFAULT_VISIT_GAP_S

WRITE_BATCH = 1_000
"""Events per transaction when a backlog is written: a long outage's spool goes in bounded steps."""


@dataclass(frozen=True)
class SinkSettings:
    """Where and how ``face_sink`` writes events, how long it keeps them, whether it keeps crops."""

    database: str = setting(
        str(DEFAULT_SQLITE_PATH),
        "Event store: SQLite file (created if missing), sqlite:///path, or mysql://user@host:port/db "
        "with the password in $FACE_DB_PASSWORD",
    )
    retention_days: float = setting(
        0.0, "Delete events older than this many days; 0 keeps all", 0.0, 36_500.0
    )
    save_crops: bool = setting(
        False, "Save identified faces' crops, a folder per face ID (personal data: off)"
    )
    crops_dir: str = setting("out/crops", "Root folder of the saved crops")
    max_pending_events: int = setting(
        100_000,
        "Events kept in the spool until written (a database outage); when full, new events are "
        "refused, counted (dropped) and the node reports ERROR",
        1,
        10_000_000,
    )
    spool_path: str = setting(
        DEFAULT_SPOOL_PATH,
        "SQLite file holding accepted events until they are written, kept across restarts; "
        "{node} becomes the node's namespace and name, {domain} its ROS domain id",
    )
    retry_interval_s: float = setting(
        2.0, "Seconds between attempts to reach an unavailable database", 0.01, 3600.0
    )
    visit_gap_s: float = setting(
        DEFAULT_VISIT_GAP_S,
        "A face ID's events on one camera further apart than this many seconds are two visits "
        "(the visits table)",
        0.0,
        86_400.0,
    )
    exit_when_idle_s: float = setting(
        0.0,
        "After the first frame, exit once no frame came for this many seconds: ends the graph when a "
        "recorded source is done (0 = run until stopped)",
        0.0,
        86_400.0,
    )


@dataclass
class WriterCounters:
    accepted: int = 0
    """Events put in the spool by this process."""
    replayed: int = 0
    """Events an earlier process left in the spool, found at start."""
    inserted: int = 0
    duplicates: int = 0
    invalid: int = 0
    dropped: int = 0
    """Events refused: the spool was full or could not be written."""
    failures: int = 0


@dataclass(frozen=True)
class FlushResult:
    inserted: int = 0
    written: int = 0
    error: str | None = None
    permanent: bool = False
    """The error will not go away by retrying: stop, and fix the database before the next start."""


def encode_spooled(event: FaceEvent) -> bytes:
    return json.dumps(event.as_dict(), separators=(",", ":")).encode()


def decode_spooled(value: bytes | None) -> FaceEvent | None:
    """The spooled event, or None if the schema now refuses it (spooled by older code, or a
    damaged record): it can never be written and must not block the events behind it."""
    try:
        event = FaceEvent.from_dict(json.loads(value or b""))
        event_row(event)
    except (KeyError, TypeError, ValueError):
        return None
    return event


class RetryingEventWriter:
    """Spool events, write them in transactions of at most ``WRITE_BATCH``, reopen and retry
    after transient failures.

    ``spool_path`` ``:memory:`` (the default) keeps the spool in memory, for a caller whose
    source keeps the events itself until they are written, and tests. The store's
    ``write_events`` updates the visits of the written events in that transaction."""

    def __init__(
        self,
        open_store: Callable[[], EventStore],
        max_pending: int = 10_000,
        retry_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        spool_path: str | Path = MEMORY,
    ) -> None:
        self._open_store = open_store
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._spool = Spool(spool_path, max_pending)
        self._store: EventStore | None = None
        self._next_attempt = 0.0
        self.counters = WriterCounters(replayed=len(self._spool))

    @property
    def pending(self) -> int:
        """Events accepted and not yet written (in the spool)."""
        return len(self._spool)

    @property
    def spool(self) -> Spool:
        return self._spool

    def submit(self, events: Iterable[FaceEvent]) -> list[str]:
        """Spool the valid events in one commit; returns why any were refused (invalid values, a
        full or unwritable spool). Spooled means accepted: on disk before this returns."""
        problems, records = [], []
        for event in events:
            try:
                event_row(event)
            except ValueError as exc:
                self.counters.invalid += 1
                problems.append(f"invalid event: {exc}")
                continue
            records.append((b"", encode_spooled(event)))
        try:
            stored = len(self._spool.append(records))
        except sqlite3.Error as exc:  # the spool's disk is full or failing
            stored = 0
            problems.append(f"spool {self._spool.path} not writable ({exc}): {len(records)} events refused")
        else:
            if stored < len(records):
                problems.append(
                    f"spool full ({self._spool.capacity} events): {len(records) - stored} events refused"
                )
        self.counters.accepted += stored
        self.counters.dropped += len(records) - stored
        return problems

    def flush(self, force: bool = False) -> FlushResult:
        """Write every spooled event, oldest first, unless waiting out a retry interval."""
        if not self._spool or (not force and self._clock() < self._next_attempt):
            return FlushResult()
        inserted = written = 0
        while batch := self._spool.read(WRITE_BATCH):
            decoded = [decode_spooled(r.value) for r in batch]
            events = [event for event in decoded if event is not None]
            try:
                if self._store is None:
                    self._store = self._open_store()
                new = self._store.write_events(events)
                self._spool.remove(r.seq for r in batch)
            except Exception as exc:  # classified: a driver's error, the spool's, a bad setting
                self.counters.failures += 1
                self._next_attempt = self._clock() + self._retry_interval_s
                self._drop_store()
                error = f"{type(exc).__name__}: {exc}"
                return FlushResult(inserted, written, error, permanent=not is_transient_error(exc))
            inserted += new
            written += len(events)
            self.counters.invalid += len(batch) - len(events)
            self.counters.inserted += new
            self.counters.duplicates += len(events) - new
        return FlushResult(inserted=inserted, written=written)

    def purge_older_than(self, seconds: float) -> int:
        """Apply retention through the open store (opening it if needed)."""
        if self._store is None:
            self._store = self._open_store()
        return self._store.purge_older_than(seconds)

    def _drop_store(self) -> None:
        # A failed connection may be half-broken; reopen from scratch on the next attempt.
        if self._store is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may itself fail
                self._store.close()
            self._store = None

    def close(self) -> None:
        self._drop_store()
        self._spool.close()
