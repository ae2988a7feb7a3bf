"""A bounded, durable first-in-first-out store of records a node has accepted but not yet handed on.

The sink writer and the ``events_out`` outbox both keep what they accepted here until the database
committed it or the Kafka broker acknowledged it, so a crash of the node (``kill -9``, power cut)
loses nothing it had accepted: on start the node finds the records left and sends them again.

SQLite in WAL mode with ``synchronous=FULL`` rather than an append-only file: records leave one by
one and out of order (Kafka acknowledges per record, partitions in any order) and in batches, which
a log file could only express with an acknowledgement log, checksums for a torn tail and
compaction of its own; SQLite's commit is atomic and fsyncs the WAL before it returns, so a record
is either wholly in the spool or not at all, and replay is one ``SELECT``. One commit per accepted
frame costs about a millisecond of fsync at the product's few events a second. The file is opened
with an exclusive lock: a second process pointed at the same spool fails at start instead of
sending the same records twice. ``:memory:`` gives the same queue without durability, for callers
whose source keeps the records itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from face_common.owned_sqlite import immediate_transaction, open_owned

MEMORY = ":memory:"
DEFAULT_SPOOL_PATH = "out/spool/{domain}/{node}.sqlite"
"""Each node's own file by default: two nodes sharing a spool would each send the other's records.
The ROS domain is part of a node's identity: graphs in different domains (tests side by side, two
stores on one machine) never share a spool, while a restarted node in its domain finds its own."""

Record = tuple[bytes, bytes | None]
"""A record's key and value; a null value is a Kafka tombstone."""


def node_spool_path(template: str, node_name: str, domain_id: int) -> str:
    """``template`` with ``{node}`` replaced by the node's fully qualified name, dotted
    (``/cam1/face_sink`` -> ``cam1.face_sink``), and ``{domain}`` by its ROS domain id."""
    return template.replace("{node}", node_name.strip("/").replace("/", ".")).replace(
        "{domain}", str(domain_id)
    )


class SpoolError(RuntimeError):
    """The spool file cannot be used: held by another process, not a spool, unreadable."""


@dataclass(frozen=True)
class SpooledRecord:
    seq: int
    """Position in the spool: increasing in acceptance order, never reused."""
    key: bytes
    value: bytes | None


class Spool:
    """At most ``capacity`` records in acceptance order, each on disk once :meth:`append` returns."""

    def __init__(self, path: str | Path, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"spool capacity must be at least 1, got {capacity}")
        self.path = str(path)
        self.capacity = capacity
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # No busy wait: a spool held by another process is a configuration error, not a delay.
        try:
            self._connection = open_owned(self.path)
            try:
                with immediate_transaction(self._connection):
                    self._connection.execute(
                        "CREATE TABLE IF NOT EXISTS spool "
                        "(seq INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB NOT NULL, value BLOB)"
                    )
                (self._count,) = self._connection.execute("SELECT COUNT(*) FROM spool").fetchone()
            except BaseException:
                self._connection.close()
                raise
        except sqlite3.Error as err:
            raise SpoolError(f"cannot use spool {self.path}: {err} (is another node using it?)") from None

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self.capacity

    def append(self, records: Sequence[Record]) -> list[int]:
        """Store as many of ``records`` as fit, in order, in one fsynced commit; their seqs.

        Fewer seqs than records means the spool is full: the rest were not accepted (the newest
        are refused, never the accepted ones evicted)."""
        taken = records[: max(self.capacity - self._count, 0)]
        if not taken:
            return []
        with immediate_transaction(self._connection):
            insert = "INSERT INTO spool (key, value) VALUES (?, ?)"
            seqs = [self._connection.execute(insert, record).lastrowid for record in taken]
        self._count += len(seqs)
        return seqs

    def read(self, limit: int | None = None) -> list[SpooledRecord]:
        """The oldest ``limit`` records (all when None), in acceptance order."""
        rows = self._connection.execute(
            "SELECT seq, key, value FROM spool ORDER BY seq LIMIT ?", (-1 if limit is None else limit,)
        )
        return [SpooledRecord(seq, bytes(key), value and bytes(value)) for seq, key, value in rows]

    def remove(self, seqs: Iterable[int]) -> None:
        """Forget records handed on (written, acknowledged), in one fsynced commit."""
        done = [(seq,) for seq in seqs]
        if not done:
            return
        before = self._connection.total_changes
        with immediate_transaction(self._connection):
            self._connection.executemany("DELETE FROM spool WHERE seq = ?", done)
        self._count -= self._connection.total_changes - before

    def close(self) -> None:
        self._connection.close()
