"""The single definition of the event tables, rendered for SQLite and MySQL, and the store over them.

The SQLite sink (embedded default) and the MySQL sink (server deployment) must agree on one layout,
so the tables are described once as data and each dialect only renders names of types and the
idempotent insert. Writes are keyed by the natural key ``(camera_id, stamp_ns, face_index)``: a
replayed frame carries the same key and the same data, so the first write wins and a replay inserts
nothing. Every row that says something about a person carries ``face_id`` (indexed), so erasing a
person is one ``DELETE`` by face ID; retention is one ``DELETE`` by capture time.

The visits table is derived from the events (``face_sink.visits``): every write, erasure and purge
recomputes the visits of the face IDs and cameras it touched, from their events, in the same
transaction, so the table always equals what ``rebuild_visits`` makes of the events.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from face_common.faces import GENDERS, UNKNOWN_FACE_ID, Box, FaceEvent

from face_sink.visits import DEFAULT_VISIT_GAP_S, Visit, visits_from_events

SCHEMA_VERSION = 2  # 2: the visits table
DEFAULT_SQLITE_PATH = Path("out/events.sqlite")
MAX_CAMERA_ID_LENGTH = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SchemaVersionError(RuntimeError):
    """The database was written by a newer schema than this code knows."""


class ColumnType(Enum):
    CAMERA_ID = "camera_id"
    UTC_DATETIME = "utc_datetime"
    BIGINT = "bigint"
    INT = "int"
    REAL = "real"
    GENDER = "gender"
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = False


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


EVENTS_TABLE = Table(
    name="face_events",
    columns=(
        Column("camera_id", ColumnType.CAMERA_ID),
        Column("stamp_ns", ColumnType.BIGINT),
        Column("face_index", ColumnType.INT),
        # Human/SQL-readable capture time (UTC); stamp_ns is the exact key.
        Column("timestamp", ColumnType.UTC_DATETIME),
        Column("face_id", ColumnType.BIGINT),
        Column("age", ColumnType.REAL, nullable=True),
        Column("gender", ColumnType.GENDER, nullable=True),
        Column("box_x", ColumnType.INT),
        Column("box_y", ColumnType.INT),
        Column("box_w", ColumnType.INT),
        Column("box_h", ColumnType.INT),
        Column("distance", ColumnType.REAL, nullable=True),
        Column("new_face", ColumnType.BOOL),
    ),
    # The natural key: replaying the same frames can never add rows.
    primary_key=("camera_id", "stamp_ns", "face_index"),
    indexes=(
        Index("face_events_face_id", ("face_id",)),  # erasure and per-face reports
        Index("face_events_stamp_ns", ("stamp_ns",)),  # retention and time ranges
    ),
)

SCHEMA_VERSION_TABLE = Table(
    name="schema_version",
    columns=(Column("version", ColumnType.INT), Column("applied_ns", ColumnType.BIGINT)),
    primary_key=("version",),
)

VISITS_TABLE = Table(
    name="face_visits",
    columns=(
        Column("face_id", ColumnType.BIGINT),
        Column("camera_id", ColumnType.CAMERA_ID),
        Column("start_ns", ColumnType.BIGINT),
        Column("start_time", ColumnType.UTC_DATETIME),
        Column("end_ns", ColumnType.BIGINT),
        Column("end_time", ColumnType.UTC_DATETIME),
        Column("dwell_s", ColumnType.REAL),
        Column("age", ColumnType.REAL, nullable=True),  # median of the visit's estimates
        Column("gender", ColumnType.GENDER, nullable=True),  # majority of the visit's estimates
        Column("sightings", ColumnType.INT),
    ),
    # Led by face_id: erasing a person and recomputing a face's visits use the key's index.
    primary_key=("face_id", "camera_id", "start_ns"),
    indexes=(Index("face_visits_start_ns", ("start_ns",)),),  # time ranges in reports
)

TABLES = (SCHEMA_VERSION_TABLE, EVENTS_TABLE, VISITS_TABLE)


@dataclass(frozen=True)
class Dialect:
    """What differs between SQL engines: type names, parameter marker and the insert-ignore form."""

    name: str
    placeholder: str
    types: dict[ColumnType, str]
    inline_indexes: bool
    table_options: str
    insert_prefix: str
    insert_suffix: str


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    types={
        ColumnType.CAMERA_ID: "TEXT",
        ColumnType.UTC_DATETIME: "TEXT",  # ISO 8601, sorts like time
        ColumnType.BIGINT: "INTEGER",
        ColumnType.INT: "INTEGER",
        ColumnType.REAL: "REAL",
        ColumnType.GENDER: "TEXT",
        ColumnType.BOOL: "INTEGER",
    },
    inline_indexes=False,
    table_options="",
    # DO NOTHING only swallows key conflicts, unlike INSERT OR IGNORE which also hides NOT NULL errors.
    insert_prefix="INSERT INTO",
    insert_suffix=" ON CONFLICT DO NOTHING",
)

MYSQL = Dialect(
    name="mysql",
    placeholder="%s",
    types={
        ColumnType.CAMERA_ID: f"VARCHAR({MAX_CAMERA_ID_LENGTH})",
        ColumnType.UTC_DATETIME: "DATETIME(6)",
        ColumnType.BIGINT: "BIGINT",
        ColumnType.INT: "INT",
        ColumnType.REAL: "DOUBLE",
        ColumnType.GENDER: "VARCHAR(8)",
        ColumnType.BOOL: "BOOLEAN",
    },
    inline_indexes=True,  # MySQL has no CREATE INDEX IF NOT EXISTS
    table_options=" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    # Affected rows then count only inserted rows (ON DUPLICATE KEY UPDATE counts duplicates
    # under CLIENT_FOUND_ROWS); rows are validated in Python first, so IGNORE hides no bad data.
    insert_prefix="INSERT IGNORE INTO",
    insert_suffix="",
)

DIALECTS = {d.name: d for d in (SQLITE, MYSQL)}


def create_statements(table: Table, dialect: Dialect) -> list[str]:
    """``CREATE TABLE/INDEX IF NOT EXISTS`` statements for ``table``, safe to run on every start."""
    lines = [f"  {c.name} {dialect.types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
    lines.append(f"  PRIMARY KEY ({', '.join(table.primary_key)})")
    if dialect.inline_indexes:
        lines += [f"  INDEX {ix.name} ({', '.join(ix.columns)})" for ix in table.indexes]
    body = ",\n".join(lines)
    statements = [f"CREATE TABLE IF NOT EXISTS {table.name} (\n{body}\n){dialect.table_options}"]
    if not dialect.inline_indexes:
        statements += [
            f"CREATE INDEX IF NOT EXISTS {ix.name} ON {table.name} ({', '.join(ix.columns)})"
            for ix in table.indexes
        ]
    return statements


def schema_statements(dialect: Dialect) -> list[str]:
    """Every statement that creates the store's tables in ``dialect``."""
    return [s for table in TABLES for s in create_statements(table, dialect)]


def insert_ignore_statement(table: Table, dialect: Dialect) -> str:
    """An insert that keeps the existing row on a key conflict (first write wins)."""
    marks = ", ".join([dialect.placeholder] * len(table.columns))
    return (
        f"{dialect.insert_prefix} {table.name} ({', '.join(table.column_names)}) "
        f"VALUES ({marks}){dialect.insert_suffix}"
    )


def utc_text(stamp_ns: int) -> str:
    """Capture time as ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, accepted by SQLite text and MySQL DATETIME(6)."""
    return (_EPOCH + timedelta(microseconds=stamp_ns // 1000)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def event_row(event: FaceEvent) -> tuple:
    """The event as a row in ``EVENTS_TABLE`` column order; raises ValueError on values no table accepts."""
    if not event.camera_id or len(event.camera_id) > MAX_CAMERA_ID_LENGTH:
        raise ValueError(f"camera id must be 1..{MAX_CAMERA_ID_LENGTH} characters, got {event.camera_id!r}")
    if event.stamp_ns < 0:
        raise ValueError(f"negative capture stamp {event.stamp_ns}")
    if event.gender and event.gender not in GENDERS:
        raise ValueError(f"gender must be one of {GENDERS} or empty, got {event.gender!r}")
    for name, value in (("age", event.age), ("distance", event.distance)):
        if math.isinf(value):
            raise ValueError(f"{name} is infinite")
    return (
        event.camera_id,
        int(event.stamp_ns),
        int(event.face_index),
        utc_text(event.stamp_ns),
        int(event.face_id),
        _finite_or_none(event.age),
        event.gender or None,
        *(int(v) for v in event.box.as_list()),
        _finite_or_none(event.distance),
        bool(event.new_face),
    )


def visit_row(visit: Visit) -> tuple:
    """The visit as a row in ``VISITS_TABLE`` column order."""
    return (
        int(visit.face_id),
        visit.camera_id,
        int(visit.start_ns),
        utc_text(visit.start_ns),
        int(visit.end_ns),
        utc_text(visit.end_ns),
        visit.dwell_s,
        _finite_or_none(visit.age),
        visit.gender or None,
        int(visit.sightings),
    )


def _visit_from_row(row: Sequence[Any]) -> Visit:
    face_id, camera_id, start_ns, _, end_ns, _, _, age, gender, sightings = row
    return Visit(
        face_id=int(face_id),
        camera_id=str(camera_id),
        start_ns=int(start_ns),
        end_ns=int(end_ns),
        age=math.nan if age is None else float(age),
        gender=gender or "",
        sightings=int(sightings),
    )


_READ_COLUMNS = (
    "camera_id, stamp_ns, face_index, face_id, age, gender, box_x, box_y, box_w, box_h, distance, new_face"
)


def _event_from_row(row: Sequence[Any]) -> FaceEvent:
    camera_id, stamp_ns, face_index, face_id, age, gender, x, y, w, h, distance, new_face = row
    return FaceEvent(
        camera_id=str(camera_id),
        stamp_ns=int(stamp_ns),
        face_index=int(face_index),
        face_id=int(face_id),
        age=math.nan if age is None else float(age),
        gender=gender or "",
        box=Box(int(x), int(y), int(w), int(h)),
        distance=math.nan if distance is None else float(distance),
        new_face=bool(new_face),
    )


class EventStore:
    """Face events in a SQL database behind any DB-API 2 connection (sqlite3, mysql-connector).

    The store owns the connection. Each write is one transaction, so a frame's faces land together
    or not at all, and a failed write can simply be retried. ``visit_gap_s`` is the gap that ends a
    visit in the visits table this store keeps.
    """

    def __init__(self, connection: Any, dialect: Dialect, visit_gap_s: float = DEFAULT_VISIT_GAP_S) -> None:
        if visit_gap_s < 0:
            raise ValueError(f"visit gap must not be negative, got {visit_gap_s} s")
        self._connection = connection
        self.dialect = dialect
        self.visit_gap_s = visit_gap_s
        self._insert_sql = insert_ignore_statement(EVENTS_TABLE, dialect)
        self._insert_visit_sql = insert_ignore_statement(VISITS_TABLE, dialect)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        cursor = self._connection.cursor()
        try:
            yield cursor
            self._connection.commit()
        except BaseException:
            self._connection.rollback()
            raise
        finally:
            cursor.close()

    def ensure_schema(self) -> None:
        """Create missing tables and record the schema version; refuse a database from newer code.

        A database from older code gains the visits table filled from its events, so upgrading
        the sink needs no separate rebuild."""
        with self._transaction() as cursor:
            for statement in schema_statements(self.dialect):
                cursor.execute(statement)
            cursor.execute(f"SELECT MAX(version) FROM {SCHEMA_VERSION_TABLE.name}")
            (found,) = cursor.fetchone()
            if found is None or found < SCHEMA_VERSION:
                if found is not None:
                    self._rebuild_visits(cursor)
                cursor.execute(
                    insert_ignore_statement(SCHEMA_VERSION_TABLE, self.dialect),
                    (SCHEMA_VERSION, time.time_ns()),
                )
            elif found > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"database schema version {found} is newer than this code's {SCHEMA_VERSION}"
                )

    def schema_version(self) -> int | None:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT MAX(version) FROM {SCHEMA_VERSION_TABLE.name}")
            (found,) = cursor.fetchone()
        return found

    def write_events(self, events: Iterable[FaceEvent]) -> int:
        """Insert events and update their visits in one transaction; returns how many were new.

        Replayed keys insert nothing and recompute the same visits."""
        batch = list(events)
        rows = [event_row(e) for e in batch]
        if not rows:
            return 0
        with self._transaction() as cursor:
            cursor.executemany(self._insert_sql, rows)
            inserted = max(cursor.rowcount, 0)
            self._update_visits(cursor, {(e.face_id, e.camera_id) for e in batch})
            return inserted

    def _update_visits(self, cursor: Any, keys: Iterable[tuple[int, str]]) -> None:
        """Recompute the visits of these (face ID, camera) pairs from all their events.

        Recomputing rather than extending the last visit keeps this idempotent and correct for
        late or replayed events that fall between or before existing visits."""
        mark = self.dialect.placeholder
        for face_id, camera_id in sorted(keys):
            if face_id == UNKNOWN_FACE_ID:
                continue
            key = (int(face_id), camera_id)
            where = f"WHERE face_id = {mark} AND camera_id = {mark}"
            cursor.execute(f"DELETE FROM {VISITS_TABLE.name} {where}", key)
            cursor.execute(f"SELECT {_READ_COLUMNS} FROM {EVENTS_TABLE.name} {where}", key)
            events = [_event_from_row(row) for row in cursor.fetchall()]
            self._insert_visits(cursor, visits_from_events(events, self.visit_gap_s))

    def _insert_visits(self, cursor: Any, visits: Sequence[Visit]) -> None:
        if visits:
            cursor.executemany(self._insert_visit_sql, [visit_row(v) for v in visits])

    def _rebuild_visits(self, cursor: Any) -> int:
        cursor.execute(f"DELETE FROM {VISITS_TABLE.name}")
        cursor.execute(f"SELECT {_READ_COLUMNS} FROM {EVENTS_TABLE.name}")
        visits = visits_from_events((_event_from_row(row) for row in cursor.fetchall()), self.visit_gap_s)
        self._insert_visits(cursor, visits)
        return len(visits)

    def rebuild_visits(self) -> int:
        """Recompute the whole visits table from the events (e.g. after changing the gap); returns rows."""
        with self._transaction() as cursor:
            return self._rebuild_visits(cursor)

    def read_visits(self) -> list[Visit]:
        """Every visit, ordered by face ID, camera and start."""
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT {', '.join(VISITS_TABLE.column_names)} FROM {VISITS_TABLE.name} "
                "ORDER BY face_id, camera_id, start_ns"
            )
            return [_visit_from_row(row) for row in cursor.fetchall()]

    def read_events(
        self, camera_id: str | None = None, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[FaceEvent]:
        """Events in capture order, optionally for one camera and a ``[since, until)`` time range."""
        conditions, params = [], []
        filters = (("camera_id =", camera_id), ("stamp_ns >=", since_ns), ("stamp_ns <", until_ns))
        for clause, value in filters:
            if value is not None:
                conditions.append(f"{clause} {self.dialect.placeholder}")
                params.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = (
            f"SELECT {_READ_COLUMNS} FROM {EVENTS_TABLE.name}{where} ORDER BY stamp_ns, camera_id, face_index"
        )
        with self._transaction() as cursor:
            cursor.execute(sql, params)
            return [_event_from_row(row) for row in cursor.fetchall()]

    def count_events(self) -> int:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE.name}")
            return int(cursor.fetchone()[0])

    def erase_face(self, face_id: int) -> int:
        """Delete every event and visit of one face ID (right to erasure); returns the events removed."""
        with self._transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {EVENTS_TABLE.name} WHERE face_id = {self.dialect.placeholder}", (int(face_id),)
            )
            removed = max(cursor.rowcount, 0)
            cursor.execute(
                f"DELETE FROM {VISITS_TABLE.name} WHERE face_id = {self.dialect.placeholder}", (int(face_id),)
            )
            return removed

    def co_occurring_face_ids(self) -> set[tuple[int, int]]:
        """Pairs ``(lower, higher)`` of face IDs seen in one frame (same camera and stamp): one frame
        never shows one person twice, so such IDs are different people and must never be merged."""
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT DISTINCT a.face_id, b.face_id FROM {EVENTS_TABLE.name} a "
                f"JOIN {EVENTS_TABLE.name} b ON a.camera_id = b.camera_id AND a.stamp_ns = b.stamp_ns "
                "AND a.face_id < b.face_id"
            )
            return {(int(a), int(b)) for a, b in cursor.fetchall()}

    def merge_faces(self, survivors: Mapping[int, int]) -> int:
        """Rewrite each merged face ID's events to its survivor (``{merged: survivor}``) and recompute
        the survivors' visits, in one transaction; returns the events rewritten.

        The moved events lose ``new_face``: the survivor was enrolled earlier, not by them."""
        mark = self.dialect.placeholder
        rewritten = 0
        with self._transaction() as cursor:
            touched: set[tuple[int, str]] = set()
            for merged, survivor in sorted(survivors.items()):
                key = (int(merged),)
                cursor.execute(
                    f"SELECT DISTINCT camera_id FROM {EVENTS_TABLE.name} WHERE face_id = {mark}", key
                )
                touched |= {(int(survivor), str(camera_id)) for (camera_id,) in cursor.fetchall()}
                cursor.execute(
                    f"UPDATE {EVENTS_TABLE.name} SET face_id = {mark}, new_face = {mark} "
                    f"WHERE face_id = {mark}",
                    (int(survivor), False, int(merged)),
                )
                rewritten += max(cursor.rowcount, 0)
                cursor.execute(f"DELETE FROM {VISITS_TABLE.name} WHERE face_id = {mark}", key)
            self._update_visits(cursor, touched)
        return rewritten

    def purge_older_than(self, seconds: float, now_ns: int | None = None) -> int:
        """Delete events captured over ``seconds`` before ``now_ns`` (retention); returns rows removed."""
        if seconds <= 0:
            raise ValueError(f"retention must be positive, got {seconds} s")
        cutoff_ns = (time.time_ns() if now_ns is None else now_ns) - round(seconds * 1e9)
        mark = self.dialect.placeholder
        with self._transaction() as cursor:
            # The visits of the faces that lose events shrink to what is kept (or go).
            cursor.execute(
                f"SELECT DISTINCT face_id, camera_id FROM {EVENTS_TABLE.name} WHERE stamp_ns < {mark}",
                (cutoff_ns,),
            )
            touched = [(int(face_id), str(camera_id)) for face_id, camera_id in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {EVENTS_TABLE.name} WHERE stamp_ns < {mark}", (cutoff_ns,))
            removed = max(cursor.rowcount, 0)
            self._update_visits(cursor, touched)
            return removed

    def close(self) -> None:
        self._connection.close()


def open_sqlite_store(
    path: str | Path = DEFAULT_SQLITE_PATH,
    busy_timeout_s: float = 5.0,
    visit_gap_s: float = DEFAULT_VISIT_GAP_S,
) -> EventStore:
    """Open (creating if needed) the embedded SQLite event store.

    WAL lets the report read while the sink writes; ``synchronous=FULL`` makes a committed frame
    survive power loss, which costs little at event rates of a few rows per second.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), timeout=busy_timeout_s)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        store = EventStore(connection, SQLITE, visit_gap_s)
        store.ensure_schema()
    except BaseException:
        connection.close()
        raise
    return store
