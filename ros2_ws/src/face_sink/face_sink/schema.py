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

Nothing is clipped or coerced into a row: :func:`validate_event` (called by :func:`event_row`, so
by every writer) refuses an event whose types or ranges a column would not hold exactly. What a
writer cannot store goes to the dead-letter table with the reason, and so does an event whose key
is already stored with other content (a collision, unlike a replay, is an error). Erasing a face
ID also records it in ``face_erasures``, and writes skip events of erased IDs: a replayed log or a
spool that still holds such events cannot bring the person back.

``face_hourly_counts`` holds what leaves a server in aggregates-only mode (``events_out``'s
``payload: hourly_counts``): per camera, UTC hour, age bucket and gender, the sightings and the
distinct customers, with no face ID. A camera's hour arrives as a whole, again whenever its counts
grew, so writing it replaces the hour's rows: a replay leaves them as they are, a fuller record
supersedes a partial one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import reprlib
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from face_common.faces import GENDERS, UNKNOWN_FACE_ID, Box, FaceEvent

from face_sink.visits import DEFAULT_VISIT_GAP_S, Visit, visits_from_events

SCHEMA_VERSION = 3  # 2: the visits table; 3: dead letters and erased face IDs
VISITS_SCHEMA_VERSION = 2
DEFAULT_SQLITE_PATH = Path("out/events.sqlite")
MAX_CAMERA_ID_LENGTH = 64
MAX_AGE = 120.0
INT_RANGE = (-(2**31), 2**31 - 1)
BIGINT_RANGE = (-(2**63), 2**63 - 1)
HOUR_NS = 3600 * 10**9
MAX_NAME_LENGTH = 255
MAX_REASON_LENGTH = 1000
MAX_DEAD_LETTER_PAYLOAD = 1024
"""Bytes of a refused record kept: an event is ~200; images and descriptors never get in whole."""
LOCAL_SOURCE = "local"
"""Dead-letter source of events written straight by a process (the sink), not read from a log."""
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
    NAME = "name"
    TEXT = "text"
    BLOB = "blob"


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

DEAD_LETTERS_TABLE = Table(
    name="face_dead_letters",
    columns=(
        Column("source", ColumnType.NAME),  # "kafka:<topic>", or LOCAL_SOURCE
        Column("position", ColumnType.NAME),  # where in the source: "<partition>@<offset>" for Kafka
        Column("received_ns", ColumnType.BIGINT),
        Column("received_time", ColumnType.UTC_DATETIME),
        Column("reason", ColumnType.TEXT),
        Column("face_id", ColumnType.BIGINT, nullable=True),  # when known: erased with the face
        Column("payload", ColumnType.BLOB),  # the record's first MAX_DEAD_LETTER_PAYLOAD bytes
    ),
    # One row per refused record: a re-delivered batch adds none.
    primary_key=("source", "position"),
    indexes=(
        Index("face_dead_letters_received_ns", ("received_ns",)),  # retention
        Index("face_dead_letters_face_id", ("face_id",)),  # erasure
    ),
)

ERASURES_TABLE = Table(
    name="face_erasures",
    columns=(
        Column("face_id", ColumnType.BIGINT),
        Column("erased_ns", ColumnType.BIGINT),
        Column("erased_time", ColumnType.UTC_DATETIME),
    ),
    primary_key=("face_id",),
    indexes=(Index("face_erasures_erased_ns", ("erased_ns",)),),  # retention
)

HOURLY_COUNTS_TABLE = Table(
    name="face_hourly_counts",
    columns=(
        Column("camera_id", ColumnType.CAMERA_ID),
        Column("hour_ns", ColumnType.BIGINT),  # start of the UTC hour
        Column("hour", ColumnType.UTC_DATETIME),
        Column("age_bucket", ColumnType.NAME),
        Column("gender", ColumnType.GENDER),  # "unknown" included: every sighting is in one cell
        Column("sightings", ColumnType.INT),
        Column("customers", ColumnType.INT),  # distinct face IDs, counted on the server
    ),
    primary_key=("camera_id", "hour_ns", "age_bucket", "gender"),
)

TABLES = (
    SCHEMA_VERSION_TABLE,
    EVENTS_TABLE,
    VISITS_TABLE,
    DEAD_LETTERS_TABLE,
    ERASURES_TABLE,
    HOURLY_COUNTS_TABLE,
)


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
        ColumnType.NAME: "TEXT",
        ColumnType.TEXT: "TEXT",
        ColumnType.BLOB: "BLOB",
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
        ColumnType.NAME: f"VARCHAR({MAX_NAME_LENGTH})",
        ColumnType.TEXT: "TEXT",
        ColumnType.BLOB: "BLOB",
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


class InvalidEvent(ValueError):
    """An event no column of the schema holds exactly: refused whole, never clipped or coerced."""


def _shown(value: object) -> str:
    """A bounded repr: a refused value may be a megabyte of JSON, and the reason is logged."""
    return reprlib.repr(value)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not _is_int(value):
        raise InvalidEvent(f"{name} must be an integer, got {type(value).__name__} {_shown(value)}")
    if not low <= value <= high:
        raise InvalidEvent(f"{name} {_shown(value)} is outside {low}..{high}")


def _check_real(name: str, value: object, low: float = -math.inf, high: float = math.inf) -> None:
    """A number in ``[low, high]``, or NaN (unknown, stored as NULL); never infinite."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidEvent(f"{name} must be a number or null, got {type(value).__name__} {_shown(value)}")
    if math.isinf(value) or not (math.isnan(value) or low <= value <= high):
        raise InvalidEvent(f"{name} {_shown(value)} is not a finite number in {low}..{high}")


def _check_camera_id(camera_id: object) -> None:
    if not isinstance(camera_id, str) or not 0 < len(camera_id) <= MAX_CAMERA_ID_LENGTH:
        raise InvalidEvent(f"camera id must be 1..{MAX_CAMERA_ID_LENGTH} characters, got {_shown(camera_id)}")
    try:
        camera_id.encode()
    except UnicodeEncodeError:
        raise InvalidEvent(f"camera id {_shown(camera_id)} is not valid Unicode") from None


def validate_event(event: FaceEvent) -> None:
    """Raise :class:`InvalidEvent` unless every field has its column's type and range.

    The one check every writer runs (through :func:`event_row`): MySQL's ``INSERT IGNORE`` would
    otherwise clip an out-of-range value to the column's limit and call the next event a duplicate.
    Checked here rather than trusted from the type hints because events come from JSON too."""
    _check_camera_id(event.camera_id)
    _check_int("stamp_ns", event.stamp_ns, 0, BIGINT_RANGE[1])
    _check_int("face_index", event.face_index, 0, INT_RANGE[1])
    _check_int("face_id", event.face_id, UNKNOWN_FACE_ID, BIGINT_RANGE[1])
    _check_real("age", event.age, 0.0, MAX_AGE)
    if not isinstance(event.gender, str) or (event.gender and event.gender not in GENDERS):
        raise InvalidEvent(f"gender must be one of {GENDERS} or empty, got {_shown(event.gender)}")
    if not isinstance(event.box, Box):
        raise InvalidEvent(f"box must be a Box, got {type(event.box).__name__}")
    for name, value in zip("xywh", event.box.as_list(), strict=True):
        _check_int(f"box {name}", value, INT_RANGE[0] if name in "xy" else 0, INT_RANGE[1])
    _check_real("distance", event.distance)
    if not isinstance(event.new_face, bool):
        raise InvalidEvent(f"new_face must be true or false, got {_shown(event.new_face)}")


def event_row(event: FaceEvent) -> tuple:
    """The event as a row in ``EVENTS_TABLE`` column order; :class:`InvalidEvent` if no table holds it."""
    validate_event(event)
    return _row_of(event)


def _row_of(event: FaceEvent) -> tuple:
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
        event.new_face,
    )


def _same_value(column: Column, stored: object, new: object) -> bool:
    """Equal as the database keeps them (a DOUBLE may come back from the server rounded in its
    last digits)."""
    if column.type is ColumnType.REAL and stored is not None and new is not None:
        return math.isclose(stored, new, rel_tol=1e-12, abs_tol=1e-12)
    return stored == new


def differing_columns(stored: Sequence[Any], new: Sequence[Any]) -> list[str]:
    """Names of the ``EVENTS_TABLE`` columns in which two event rows differ."""
    return [
        column.name
        for column, a, b in zip(EVENTS_TABLE.columns, stored, new, strict=True)
        if not _same_value(column, a, b)
    ]


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not become a row: where it came from, why, and its first bytes.

    ``(source, position)`` names it uniquely (Kafka: ``kafka:<topic>``, ``<partition>@<offset>``),
    so a re-delivered record keeps one row. ``face_id``, when the record got that far, lets an
    erasure remove it with the face's other rows."""

    source: str
    position: str
    reason: str
    payload: bytes
    received_ns: int
    face_id: int | None = None


def _bounded_text(text: str, limit: int) -> str:
    """At most ``limit`` characters, encodable in UTF-8 whatever the record held."""
    return text[:limit].encode("utf-8", "backslashreplace").decode()


def dead_letter_row(letter: DeadLetter) -> tuple:
    """The letter as a row in ``DEAD_LETTERS_TABLE`` column order, payload and texts truncated."""
    reason = letter.reason
    if len(letter.payload) > MAX_DEAD_LETTER_PAYLOAD:
        reason += f" (payload of {len(letter.payload)} bytes, first {MAX_DEAD_LETTER_PAYLOAD} kept)"
    return (
        _bounded_text(letter.source, MAX_NAME_LENGTH),
        _bounded_text(letter.position, MAX_NAME_LENGTH),
        int(letter.received_ns),
        utc_text(letter.received_ns),
        _bounded_text(reason, MAX_REASON_LENGTH),
        None if letter.face_id is None else int(letter.face_id),
        bytes(letter.payload[:MAX_DEAD_LETTER_PAYLOAD]),
    )


@dataclass(frozen=True)
class Incoming:
    """An event to write and where it came from, so that a key collision can be dead-lettered.

    Empty ``position``/``payload`` (events not read from a log) are derived from the event."""

    event: FaceEvent
    source: str = LOCAL_SOURCE
    position: str = ""
    payload: bytes = b""

    def collision(self, columns: Sequence[str], received_ns: int) -> DeadLetter:
        """The dead letter reporting that this event's key is stored with other ``columns``."""
        e = self.event
        payload = self.payload or json.dumps(e.as_dict()).encode()
        position = (
            self.position
            or f"{e.camera_id}/{e.stamp_ns}/{e.face_index}#{hashlib.sha256(payload).hexdigest()[:12]}"
        )
        return DeadLetter(
            self.source,
            position,
            f"key collision: ({e.camera_id!r}, {e.stamp_ns}, {e.face_index}) is stored with other "
            f"{', '.join(columns)}",
            payload,
            received_ns,
            e.face_id,
        )


@dataclass(frozen=True)
class Erasure:
    """Erase this face ID (a tombstone read from the events topic)."""

    face_id: int


@dataclass(frozen=True)
class HourCell:
    """One age bucket and gender of an hour: how often faces were seen, and how many customers."""

    age_bucket: str
    gender: str
    sightings: int
    customers: int


@dataclass(frozen=True)
class HourlyCounts:
    """Everything one camera saw in one UTC hour, as numbers only (aggregates-only mode)."""

    camera_id: str
    hour_ns: int
    cells: tuple[HourCell, ...]


def _check_label(name: str, value: object) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= 8 or not value.isprintable():
        raise InvalidEvent(f"{name} must be a label of 1..8 characters, got {_shown(value)}")


def hourly_count_rows(counts: HourlyCounts) -> list[tuple]:
    """The hour as rows in ``HOURLY_COUNTS_TABLE`` column order; :class:`InvalidEvent` (nothing
    clipped) for a value no column holds, an hour not on the hour or a cell given twice."""
    _check_camera_id(counts.camera_id)
    _check_int("hour_ns", counts.hour_ns, 0, BIGINT_RANGE[1])
    if counts.hour_ns % HOUR_NS:
        raise InvalidEvent(f"hour_ns {counts.hour_ns} is not the start of an hour")
    hour = (counts.camera_id, int(counts.hour_ns), utc_text(counts.hour_ns))
    rows, seen = [], set()
    for cell in counts.cells:
        _check_label("age bucket", cell.age_bucket)
        _check_label("gender", cell.gender)
        _check_int("sightings", cell.sightings, 0, INT_RANGE[1])
        _check_int("customers", cell.customers, 0, INT_RANGE[1])
        if (cell.age_bucket, cell.gender) in seen:
            raise InvalidEvent(f"cell {cell.age_bucket}/{cell.gender} given twice")
        seen.add((cell.age_bucket, cell.gender))
        rows.append((*hour, cell.age_bucket, cell.gender, int(cell.sightings), int(cell.customers)))
    return rows


@dataclass
class BatchOutcome:
    """What :meth:`EventStore.apply` did."""

    inserted: int = 0
    duplicates: int = 0
    """Events whose key was stored with the same content: replays, harmless."""
    collisions: list[DeadLetter] = field(default_factory=list)
    """Events whose key was stored with other content: dead-lettered, an error to report."""
    suppressed: int = 0
    """Events of erased face IDs, not written."""
    dead_letters: int = 0
    """New dead-letter rows (collisions included)."""
    erased_events: int = 0
    hours: int = 0
    """Hourly-count records written (each replaces its camera's hour)."""


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
        self._insert_dead_letter_sql = insert_ignore_statement(DEAD_LETTERS_TABLE, dialect)
        self._insert_erasure_sql = insert_ignore_statement(ERASURES_TABLE, dialect)
        self._insert_hour_sql = insert_ignore_statement(HOURLY_COUNTS_TABLE, dialect)

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
                if found is not None and found < VISITS_SCHEMA_VERSION:
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

        Replayed keys insert nothing and recompute the same visits; a key stored with other
        content becomes a dead letter (``LOCAL_SOURCE``); events of erased face IDs are skipped."""
        return self.apply([Incoming(e) for e in events]).inserted

    def apply(self, items: Sequence[Incoming | DeadLetter | Erasure | HourlyCounts]) -> BatchOutcome:
        """Write a batch read from a log in ONE transaction and in its order: events, dead letters,
        erasures and hourly counts. Every part is idempotent, so a re-delivered batch changes nothing."""
        outcome = BatchOutcome()
        with self._transaction() as cursor:
            for kind, run in itertools.groupby(items, key=type):
                group = list(run)
                if kind is Incoming:
                    self._write(cursor, group, outcome)
                elif kind is DeadLetter:
                    outcome.dead_letters += self._add_dead_letters(cursor, group)
                elif kind is HourlyCounts:
                    for counts in group:
                        self._replace_hour(cursor, counts)
                    outcome.hours += len(group)
                else:
                    for erasure in group:
                        outcome.erased_events += self._erase(cursor, erasure.face_id)
        return outcome

    def _write(self, cursor: Any, incoming: Sequence[Incoming], outcome: BatchOutcome) -> None:
        erased = self._erased_among(cursor, {i.event.face_id for i in incoming})
        kept = [i for i in incoming if i.event.face_id not in erased]
        outcome.suppressed += len(incoming) - len(kept)
        rows = [event_row(i.event) for i in kept]
        if not rows:
            return
        cursor.executemany(self._insert_sql, rows)
        inserted = max(cursor.rowcount, 0)
        collisions = [] if inserted == len(rows) else self._collisions(cursor, kept, rows)
        outcome.inserted += inserted
        outcome.duplicates += len(rows) - inserted - len(collisions)
        outcome.collisions += collisions
        outcome.dead_letters += self._add_dead_letters(cursor, collisions)
        self._update_visits(cursor, {(i.event.face_id, i.event.camera_id) for i in kept})

    def _collisions(self, cursor: Any, kept: Sequence[Incoming], rows: Sequence[tuple]) -> list[DeadLetter]:
        """Dead letters for the events whose key is stored with other content.

        Only runs when some key was already there (replays, rare), one lookup per event."""
        mark = self.dialect.placeholder
        select = (
            f"SELECT {_READ_COLUMNS} FROM {EVENTS_TABLE.name} "
            f"WHERE camera_id = {mark} AND stamp_ns = {mark} AND face_index = {mark}"
        )
        letters = []
        for item, row in zip(kept, rows, strict=True):
            cursor.execute(select, row[:3])
            stored = _row_of(_event_from_row(cursor.fetchone()))  # as stored, even if older code wrote it
            columns = differing_columns(stored, row)
            if columns:
                letters.append(item.collision(columns, time.time_ns()))
        return letters

    def _erased_among(self, cursor: Any, face_ids: set[int]) -> set[int]:
        found: set[int] = set()
        ids = sorted(int(f) for f in face_ids if f != UNKNOWN_FACE_ID)
        for start in range(0, len(ids), 500):  # bounded statement size
            chunk = ids[start : start + 500]
            marks = ", ".join([self.dialect.placeholder] * len(chunk))
            cursor.execute(f"SELECT face_id FROM {ERASURES_TABLE.name} WHERE face_id IN ({marks})", chunk)
            found |= {int(face_id) for (face_id,) in cursor.fetchall()}
        return found

    def _add_dead_letters(self, cursor: Any, letters: Sequence[DeadLetter]) -> int:
        if not letters:
            return 0
        cursor.executemany(self._insert_dead_letter_sql, [dead_letter_row(d) for d in letters])
        return max(cursor.rowcount, 0)

    def add_dead_letters(self, letters: Iterable[DeadLetter]) -> int:
        """Keep records no table could hold, with the reason; returns the new rows (a known
        ``(source, position)`` adds none)."""
        with self._transaction() as cursor:
            return self._add_dead_letters(cursor, list(letters))

    def read_dead_letters(self) -> list[DeadLetter]:
        """Every dead letter as stored (payload truncated), oldest first."""
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT source, position, reason, payload, received_ns, face_id "
                f"FROM {DEAD_LETTERS_TABLE.name} ORDER BY received_ns, source, position"
            )
            return [
                DeadLetter(str(source), str(position), str(reason), bytes(payload), int(received), face_id)
                for source, position, reason, payload, received, face_id in cursor.fetchall()
            ]

    def _replace_hour(self, cursor: Any, counts: HourlyCounts) -> None:
        """The camera's hour becomes exactly ``counts`` (cells it no longer has go)."""
        rows = hourly_count_rows(counts)
        mark = self.dialect.placeholder
        cursor.execute(
            f"DELETE FROM {HOURLY_COUNTS_TABLE.name} WHERE camera_id = {mark} AND hour_ns = {mark}",
            (counts.camera_id, int(counts.hour_ns)),
        )
        if rows:
            cursor.executemany(self._insert_hour_sql, rows)

    def read_hourly_counts(self) -> list[HourlyCounts]:
        """Every stored hour, by camera and hour, its cells by age bucket and gender."""
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT camera_id, hour_ns, age_bucket, gender, sightings, customers "
                f"FROM {HOURLY_COUNTS_TABLE.name} ORDER BY camera_id, hour_ns, age_bucket, gender"
            )
            rows = cursor.fetchall()
        return [
            HourlyCounts(
                str(camera_id),
                int(hour_ns),
                tuple(HourCell(str(b), str(g), int(s), int(c)) for *_, b, g, s, c in cells),
            )
            for (camera_id, hour_ns), cells in itertools.groupby(rows, key=lambda row: (row[0], row[1]))
        ]

    def erased_face_ids(self) -> set[int]:
        """Face IDs erased within the retention window: their events are never written again."""
        with self._transaction() as cursor:
            cursor.execute(f"SELECT face_id FROM {ERASURES_TABLE.name}")
            return {int(face_id) for (face_id,) in cursor.fetchall()}

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
        """Delete every event, visit and dead letter of one face ID (right to erasure) and record the
        ID as erased, so later writes of its events are skipped; returns the events removed."""
        with self._transaction() as cursor:
            return self._erase(cursor, face_id)

    def _erase(self, cursor: Any, face_id: int) -> int:
        key = (int(face_id),)
        mark = self.dialect.placeholder
        cursor.execute(f"DELETE FROM {EVENTS_TABLE.name} WHERE face_id = {mark}", key)
        removed = max(cursor.rowcount, 0)
        for table in (VISITS_TABLE, DEAD_LETTERS_TABLE):
            cursor.execute(f"DELETE FROM {table.name} WHERE face_id = {mark}", key)
        if face_id != UNKNOWN_FACE_ID:  # -1 is no person: its later events stay welcome
            now_ns = time.time_ns()
            cursor.execute(self._insert_erasure_sql, (*key, now_ns, utc_text(now_ns)))
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
        """Delete events captured over ``seconds`` before ``now_ns`` (retention); returns rows removed.

        Dead letters received and erasures recorded before the same cutoff go too: every event of
        an erased (retired) ID was captured before its erasure, so retention removes it anyway."""
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
            cursor.execute(f"DELETE FROM {DEAD_LETTERS_TABLE.name} WHERE received_ns < {mark}", (cutoff_ns,))
            cursor.execute(f"DELETE FROM {ERASURES_TABLE.name} WHERE erased_ns < {mark}", (cutoff_ns,))
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
