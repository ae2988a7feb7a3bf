"""Writing events through a bounded queue that survives a database that is down or locked.

The sink must not lose events it has accepted because the database is briefly unavailable (a
locked SQLite file, a MySQL restart, a directory not yet mounted). Events wait in memory, bounded
so a long outage cannot exhaust it, and are retried; what does not fit is refused and counted.
Writes are idempotent, so retrying a batch that may have half-landed is safe.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from face_common.faces import FaceEvent
from face_common.settings import setting

from face_sink.schema import DEFAULT_SQLITE_PATH, EventStore, event_row
from face_sink.visits import DEFAULT_VISIT_GAP_S


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
        10_000,
        "Events kept in memory while the database is unavailable; more are dropped and counted",
        1,
        10_000_000,
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
    inserted: int = 0
    duplicates: int = 0
    invalid: int = 0
    dropped: int = 0
    failures: int = 0


@dataclass(frozen=True)
class FlushResult:
    inserted: int = 0
    written: int = 0
    error: str | None = None


class RetryingEventWriter:
    """Queue events, write them in one transaction per flush, reopen and retry after failures.

    The store's ``write_events`` updates the visits of the written events in that transaction."""

    def __init__(
        self,
        open_store: Callable[[], EventStore],
        max_pending: int = 10_000,
        retry_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_pending <= 0:
            raise ValueError(f"max_pending must be positive, got {max_pending}")
        self._open_store = open_store
        self._max_pending = max_pending
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._pending: deque[FaceEvent] = deque()
        self._store: EventStore | None = None
        self._next_attempt = 0.0
        self.counters = WriterCounters()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, events: Iterable[FaceEvent]) -> list[str]:
        """Queue events; returns why any were refused (invalid values, or the queue is full)."""
        problems = []
        for event in events:
            try:
                event_row(event)
            except ValueError as exc:
                self.counters.invalid += 1
                problems.append(f"invalid event: {exc}")
                continue
            if len(self._pending) >= self._max_pending:
                # Refuse the newest rather than evict queued ones: accepted events stay accepted.
                self.counters.dropped += 1
                problems.append(f"queue full ({self._max_pending} events), event dropped")
                continue
            self._pending.append(event)
            self.counters.accepted += 1
        return problems

    def flush(self, force: bool = False) -> FlushResult:
        """Write every queued event in one transaction, unless waiting out a retry interval."""
        if not self._pending:
            return FlushResult()
        if not force and self._clock() < self._next_attempt:
            return FlushResult()
        batch = list(self._pending)
        try:
            if self._store is None:
                self._store = self._open_store()
            inserted = self._store.write_events(batch)
        except Exception as exc:  # any driver error: the DB is down, locked or unwritable
            self.counters.failures += 1
            self._next_attempt = self._clock() + self._retry_interval_s
            self._drop_store()
            return FlushResult(error=f"{type(exc).__name__}: {exc}")
        for _ in batch:
            self._pending.popleft()
        self.counters.inserted += inserted
        self.counters.duplicates += len(batch) - inserted
        return FlushResult(inserted=inserted, written=len(batch))

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
