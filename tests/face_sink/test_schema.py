"""The event schema on a real SQLite file, and the MySQL rendering of the same table description."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest
from face_common.faces import Box, FaceEvent
from face_sink.schema import (
    EVENTS_TABLE,
    LOCAL_SOURCE,
    MAX_DEAD_LETTER_PAYLOAD,
    MYSQL,
    SCHEMA_VERSION,
    SQLITE,
    DeadLetter,
    Erasure,
    EventStore,
    Incoming,
    InvalidEvent,
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
        ("camera_id", 7, "camera id"),
        ("camera_id", "cam\ud800", "not valid Unicode"),
        ("stamp_ns", -1, r"stamp_ns -1 is outside 0\.\."),
        ("stamp_ns", 2**63, "stamp_ns .* is outside"),
        ("stamp_ns", math.inf, "stamp_ns must be an integer, got float"),
        ("stamp_ns", float(T0), "stamp_ns must be an integer, got float"),
        ("stamp_ns", True, "stamp_ns must be an integer, got bool"),
        ("face_index", 2**31, "face_index 2147483648 is outside 0..2147483647"),
        ("face_index", -1, "face_index -1 is outside"),
        ("face_index", "0", "face_index must be an integer, got str"),
        ("face_id", -2, "face_id -2 is outside -1.."),
        ("face_id", 2**63, "face_id .* is outside"),
        ("gender", "unknown", "gender"),
        ("gender", None, "gender"),
        ("age", math.inf, "age inf is not a finite number"),
        ("age", -0.5, "age -0.5 is not a finite number in 0.0..120.0"),
        ("age", 121.0, "age 121.0"),
        ("age", "31", "age must be a number or null, got str"),
        ("distance", -math.inf, "distance -inf"),
        ("distance", None, "distance must be a number or null, got NoneType"),
        ("box", Box(0, 0, -1, 5), "box w -1 is outside 0.."),
        ("box", Box(2**31, 0, 1, 1), "box x 2147483648 is outside"),
        ("box", Box(0, 0, 1.5, 1), "box w must be an integer, got float"),
        ("box", [0, 0, 1, 1], "box must be a Box"),
        ("new_face", 1, "new_face must be true or false"),
    ],
)
def test_event_row_refuses_every_value_a_column_would_not_hold_exactly(field, value, message):
    with pytest.raises(InvalidEvent, match=message):
        event_row(make_event(**{field: value}))


@pytest.mark.parametrize(
    "changes",
    [
        {"age": math.nan, "distance": math.nan, "gender": "", "face_id": -1},
        {"age": 0.0, "face_index": 2**31 - 1, "stamp_ns": 2**63 - 1, "box": Box(-5, -5, 0, 0)},
        {"age": np.float32(120.0), "face_id": np.int64(2**63 - 1), "box": Box(*np.arange(4))},
    ],
)
def test_the_edges_of_every_range_and_numpy_numbers_are_accepted(changes):
    assert event_row(make_event(**changes))[:3] == (
        "cam0",
        changes.get("stamp_ns", T0),
        changes.get("face_index", 0),
    )


def test_an_identical_replay_is_a_duplicate_and_another_event_on_the_key_a_collision(store):
    first = make_event()
    other = make_event(face_id=2, age=40.0)
    assert store.apply([Incoming(first), Incoming(first)]).duplicates == 1
    outcome = store.apply([Incoming(first), Incoming(other, "kafka:face_events", "3@17", b'{"x": 1}')])
    assert (outcome.inserted, outcome.duplicates, outcome.dead_letters) == (0, 1, 1)
    [letter] = outcome.collisions
    assert (
        letter.reason == "key collision: ('cam0', 1700000000000000000, 0) is stored with other face_id, age"
    )
    assert store.read_dead_letters() == [letter]
    assert store.read_events() == [first]  # the first write wins, the second is reported
    # A collision found by a plain write_events (the sink) is kept too, once per distinct event.
    assert store.write_events([other, other]) == 0
    [local] = [d for d in store.read_dead_letters() if d.source == LOCAL_SOURCE]
    assert local.position.startswith("cam0/1700000000000000000/0#") and local.face_id == 2
    assert json.loads(local.payload) == other.as_dict()


def test_dead_letters_are_bounded_and_kept_once_per_position(store):
    huge = bytes(range(256)) * 40
    letter = DeadLetter("kafka:t", "0@5", "not JSON: \udcff", huge, T0)
    assert store.add_dead_letters([letter, letter]) == 1
    [stored] = store.read_dead_letters()
    assert stored.payload == huge[:MAX_DEAD_LETTER_PAYLOAD]
    assert stored.reason == f"not JSON: \\udcff (payload of {len(huge)} bytes, first 1024 kept)"
    assert store.add_dead_letters([letter]) == 0


def test_erasure_removes_the_faces_dead_letters_and_its_later_events_are_not_written(store):
    store.write_events([make_event(face_id=7), make_event(face_index=1, face_id=8)])
    store.add_dead_letters([DeadLetter("kafka:t", "0@1", "why", b"{}", T0, face_id=7)])
    outcome = store.apply([Erasure(7), Incoming(make_event(stamp_ns=T0 + 1, face_id=7))])
    assert (outcome.erased_events, outcome.suppressed, outcome.inserted) == (1, 1, 0)
    assert store.write_events([make_event(stamp_ns=T0 + 2, face_id=7)]) == 0
    assert {e.face_id for e in store.read_events()} == {8}
    assert store.read_dead_letters() == [] and store.erased_face_ids() == {7}
    store.erase_face(-1)  # unknown faces' events: removed, but later ones still welcome
    assert store.erased_face_ids() == {7}
    assert store.write_events([make_event(stamp_ns=T0 + 3, face_id=-1)]) == 1


def test_retention_ends_dead_letters_and_erasure_records_too(store):
    store.add_dead_letters([DeadLetter("kafka:t", "0@1", "why", b"{}", T0)])
    store.erase_face(7)
    store.purge_older_than(1.0, now_ns=2**62)
    assert store.read_dead_letters() == [] and store.erased_face_ids() == set()


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


def test_a_version_2_database_gains_the_new_tables_and_keeps_its_visits(tmp_path):
    store = open_sqlite_store(tmp_path / "events.sqlite")
    store.write_events([make_event()])
    store.close()
    con = sqlite3.connect(tmp_path / "events.sqlite")
    with con:
        con.execute("DROP TABLE face_dead_letters")
        con.execute("DROP TABLE face_erasures")
        con.execute("UPDATE schema_version SET version = 2")
    con.close()
    again = open_sqlite_store(tmp_path / "events.sqlite")
    assert again.schema_version() == SCHEMA_VERSION == 3
    assert again.read_dead_letters() == [] and again.erased_face_ids() == set()
    assert len(again.read_visits()) == 1 and again.count_events() == 1
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
