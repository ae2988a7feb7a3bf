"""The event schema on a real SQLite file, and the MySQL rendering of the same table description."""

from __future__ import annotations

import math
import sqlite3

import pytest
from face_common.faces import Box, FaceEvent
from face_sink.schema import (
    EVENTS_TABLE,
    MYSQL,
    SCHEMA_VERSION,
    SQLITE,
    EventStore,
    SchemaVersionError,
    event_row,
    insert_ignore_statement,
    open_sqlite_store,
    schema_statements,
    utc_text,
)

T0 = 1_700_000_000 * 10**9  # 2023-11-14 22:13:20 UTC


def make_event(
    stamp_ns: int = T0, face_index: int = 0, face_id: int = 1, camera_id: str = "cam0", **kw
) -> FaceEvent:
    fields = dict(age=31.5, gender="female", box=Box(10, 20, 30, 40), distance=0.42, new_face=False)
    fields.update(kw)
    return FaceEvent(camera_id=camera_id, stamp_ns=stamp_ns, face_index=face_index, face_id=face_id, **fields)


@pytest.fixture
def store(tmp_path):
    s = open_sqlite_store(tmp_path / "events.sqlite")
    yield s
    s.close()


def test_sqlite_ddl_creates_the_described_columns_and_key(tmp_path):
    store = open_sqlite_store(tmp_path / "db" / "events.sqlite")
    store.close()
    con = sqlite3.connect(tmp_path / "db" / "events.sqlite")
    info = con.execute("PRAGMA table_info(face_events)").fetchall()
    assert [row[1] for row in info] == list(EVENTS_TABLE.column_names)
    pk = sorted((row[5], row[1]) for row in info if row[5])
    assert [name for _, name in pk] == ["camera_id", "stamp_ns", "face_index"]
    not_null = {row[1] for row in info if row[3]}
    assert not_null == set(EVENTS_TABLE.column_names) - {"age", "gender", "distance"}
    indexes = {row[1] for row in con.execute("PRAGMA index_list(face_events)")}
    assert {"face_events_face_id", "face_events_stamp_ns"} <= indexes
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_mysql_ddl_renders_the_same_table():
    events_ddl = [s for s in schema_statements(MYSQL) if "face_events" in s]
    assert len(events_ddl) == 1, "MySQL indexes must be inline (no CREATE INDEX IF NOT EXISTS)"
    ddl = events_ddl[0]
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS face_events (")
    for expected in (
        "camera_id VARCHAR(64) NOT NULL",
        "stamp_ns BIGINT NOT NULL",
        "timestamp DATETIME(6) NOT NULL",
        "face_id BIGINT NOT NULL",
        "age DOUBLE,",
        "gender VARCHAR(8),",
        "new_face BOOLEAN NOT NULL",
        "PRIMARY KEY (camera_id, stamp_ns, face_index)",
        "INDEX face_events_face_id (face_id)",
        "INDEX face_events_stamp_ns (stamp_ns)",
    ):
        assert expected in ddl
    assert ddl.endswith("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
    assert "?" not in ddl


@pytest.mark.parametrize(
    ("dialect", "prefix", "suffix", "marker"),
    [
        (SQLITE, "INSERT INTO face_events (", ") ON CONFLICT DO NOTHING", "?"),
        (MYSQL, "INSERT IGNORE INTO face_events (", ")", "%s"),
    ],
)
def test_insert_statement_is_idempotent_per_dialect(dialect, prefix, suffix, marker):
    sql = insert_ignore_statement(EVENTS_TABLE, dialect)
    assert sql.startswith(prefix)
    assert sql.endswith(suffix)
    assert sql.count(marker) == len(EVENTS_TABLE.columns)


def test_events_round_trip_with_nan_and_utc_timestamp(store, tmp_path):
    events = [make_event(), make_event(face_index=1, face_id=2, age=math.nan, gender="", distance=math.nan)]
    assert store.write_events(events) == 2
    back = store.read_events()
    assert back[0] == events[0]
    assert math.isnan(back[1].age) and math.isnan(back[1].distance) and back[1].gender == ""
    con = sqlite3.connect(tmp_path / "events.sqlite")
    stored_time = con.execute("SELECT timestamp FROM face_events LIMIT 1").fetchone()[0]
    assert stored_time == "2023-11-14 22:13:20.000000"
    assert con.execute("SELECT age, gender FROM face_events WHERE face_index = 1").fetchone() == (None, None)
    con.close()


def test_utc_text_keeps_microseconds():
    assert utc_text(T0 + 123_456_789) == "2023-11-14 22:13:20.123456"


def test_replay_never_duplicates_rows_and_first_write_wins(store):
    frame = [make_event(face_index=i, face_id=10 + i) for i in range(3)]
    assert store.write_events(frame) == 3
    assert store.write_events(frame) == 0
    changed = [make_event(face_index=0, face_id=99), make_event(stamp_ns=T0 + 1, face_id=10)]
    assert store.write_events(changed) == 1  # only the new key lands
    assert store.count_events() == 4
    assert store.read_events()[0].face_id == 10


def test_same_stamp_on_two_cameras_is_two_rows(store):
    assert store.write_events([make_event(camera_id="door"), make_event(camera_id="till")]) == 2


def test_a_failed_batch_writes_nothing(store):
    """One transaction per batch: a bad row rolls back the whole frame."""
    good = make_event()
    bad = make_event(face_index=1, gender="robot")
    with pytest.raises(ValueError, match="gender"):
        store.write_events([good, bad])
    assert store.count_events() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("camera_id", "", "camera id"),
        ("camera_id", "c" * 65, "camera id"),
        ("stamp_ns", -1, "negative"),
        ("gender", "unknown", "gender"),
        ("age", math.inf, "age"),
    ],
)
def test_event_row_rejects_values_no_dialect_accepts(field, value, message):
    with pytest.raises(ValueError, match=message):
        event_row(make_event(**{field: value}))


def test_erase_removes_only_that_faces_rows(store):
    store.write_events([make_event(stamp_ns=T0 + i, face_id=7 if i % 2 else 8) for i in range(6)])
    assert store.erase_face(7) == 3
    assert {e.face_id for e in store.read_events()} == {8}
    assert store.erase_face(7) == 0


def test_retention_purges_only_older_events(store):
    day = 86_400 * 10**9
    store.write_events([make_event(stamp_ns=T0 - k * day, face_index=0) for k in range(5)])
    assert store.purge_older_than(2.5 * 86_400, now_ns=T0) == 2  # 3 and 4 days old
    assert sorted(T0 - e.stamp_ns for e in store.read_events()) == [0, day, 2 * day]
    with pytest.raises(ValueError):
        store.purge_older_than(0)


def test_read_events_filters_by_camera_and_time(store):
    store.write_events([make_event(stamp_ns=T0 + i, camera_id=c) for i in range(3) for c in ("a", "b")])
    assert [e.stamp_ns - T0 for e in store.read_events(camera_id="b", since_ns=T0 + 1)] == [1, 2]
    assert len(store.read_events(until_ns=T0 + 1)) == 2


def test_reopening_keeps_rows_and_schema_version(tmp_path):
    path = tmp_path / "events.sqlite"
    first = open_sqlite_store(path)
    first.write_events([make_event()])
    first.close()
    again = open_sqlite_store(path)
    assert again.count_events() == 1
    assert again.schema_version() == SCHEMA_VERSION
    again.close()


def test_database_from_newer_code_is_refused(tmp_path):
    path = tmp_path / "events.sqlite"
    open_sqlite_store(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        EventStore(sqlite3.connect(path), SQLITE).ensure_schema()
