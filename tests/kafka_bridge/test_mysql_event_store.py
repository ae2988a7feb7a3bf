"""face_sink's EventStore on a real MariaDB server (``mariadb`` fixture): the MySQL dialect for real.

The DDL and insert strings are unit-tested in ``tests/face_sink/test_schema.py``; here the server
runs them: tables and indexes created (twice, as every start does), replays insert nothing,
erasure and retention delete exactly their rows, values (NULLs, DATETIME(6)) round-trip, and the
visits table written batch by batch equals the rebuilt one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import mysql.connector
import pytest
from face_analytics.report import main as report_main
from face_common.faces import Box, FaceEvent
from face_sink.mysql_store import PASSWORD_ENV, open_store, parse_mysql_url
from face_sink.schema import EVENTS_TABLE, MYSQL, SCHEMA_VERSION, EventStore, utc_text
from face_sink.visits import visits_from_events
from face_sink.writer import RetryingEventWriter

T0_NS = 1_764_000_000_000_000_000


def event(camera: str, second: int, index: int = 0, face_id: int = 1, **fields: object) -> FaceEvent:
    values = {
        "age": 30.5,
        "gender": "female",
        "box": Box(10, 20, 30, 40),
        "distance": 0.25,
        "new_face": False,
        **fields,
    }
    return FaceEvent(camera, T0_NS + second * 10**9, index, face_id, **values)


def without_password(dsn: str) -> str:
    parts = urlsplit(dsn)
    return parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl()


def clear_events(dsn: str) -> None:
    """Empty the shared test database's event table (other bridge tests write it too)."""
    store = open_store(dsn)
    try:
        store.purge_older_than(1e-9, now_ns=2**62)
    finally:
        store.close()


@pytest.fixture
def store(mariadb: str) -> Iterator[EventStore]:
    clear_events(mariadb)
    opened = open_store(mariadb)
    yield opened
    opened.close()


def same(a: FaceEvent, b: FaceEvent) -> bool:
    """Equal, NaN included (NaN != NaN)."""
    return all(
        (isinstance(x, float) and math.isnan(x) and math.isnan(y)) or x == y
        for x, y in zip(vars(a).values(), vars(b).values(), strict=True)
    )


def test_schema_is_created_once_with_its_indexes(store: EventStore, mariadb: str) -> None:
    assert store.dialect is MYSQL and store.schema_version() == SCHEMA_VERSION
    open_store(mariadb).close()  # every start runs the DDL again: a no-op
    settings = parse_mysql_url(mariadb, {})
    connection = mysql.connector.connect(**settings.connect_arguments())
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM schema_version")
        assert cursor.fetchone() == (1,)
        cursor.execute(f"SHOW INDEX FROM {EVENTS_TABLE.name}")
        indexes = {(row[2], row[4]) for row in cursor.fetchall()}  # (key name, column)
        cursor.execute(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (settings.database, EVENTS_TABLE.name),
        )
        columns = cursor.fetchall()
    finally:
        connection.close()
    assert {("PRIMARY", "camera_id"), ("PRIMARY", "stamp_ns"), ("PRIMARY", "face_index")} <= indexes
    assert {("face_events_face_id", "face_id"), ("face_events_stamp_ns", "stamp_ns")} <= indexes
    assert [name for name, _ in columns] == list(EVENTS_TABLE.column_names)
    assert dict(columns)["timestamp"] == "datetime"


def test_replays_never_add_rows_and_the_first_write_wins(store: EventStore) -> None:
    first = [event("door", s, i, face_id=1 + i) for s in range(5) for i in range(2)]
    assert store.write_events(first) == 10
    assert store.write_events(first) == 0
    changed = event("door", 0, 0, face_id=99, age=80.0)  # a key seen before, other values
    assert store.write_events([changed, event("door", 5)]) == 1
    assert store.count_events() == 11
    stored = store.read_events(camera_id="door")
    assert stored[0] == first[0] and len(stored) == 11


def test_values_round_trip_nulls_and_capture_time(store: EventStore, mariadb: str) -> None:
    unknown = event("till", 1, age=math.nan, gender="", distance=math.nan, new_face=True)
    known = event("till", 2, 1, face_id=2**40, gender="male", box=Box(-5, 0, 1920, 1080))
    assert store.write_events([unknown, known]) == 2
    stored = store.read_events(camera_id="till")
    assert len(stored) == 2 and same(stored[0], unknown) and same(stored[1], known)
    connection = mysql.connector.connect(**parse_mysql_url(mariadb, {}).connect_arguments())
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT timestamp, age, gender FROM face_events WHERE camera_id = 'till' ORDER BY stamp_ns"
        )
        (first_time, age, gender), (second_time, _, _) = cursor.fetchall()
    finally:
        connection.close()
    assert (age, gender) == (None, None)  # SQL NULL, not 'nan' or ''
    assert first_time.strftime("%Y-%m-%d %H:%M:%S.%f") == utc_text(unknown.stamp_ns)
    assert (second_time - first_time).total_seconds() == 1.0


def test_erase_face_removes_exactly_that_face(store: EventStore) -> None:
    store.write_events([event("door", s, i, face_id=1 + i) for s in range(4) for i in range(3)])
    assert store.erase_face(2) == 4
    assert store.erase_face(2) == 0
    assert sorted({e.face_id for e in store.read_events()}) == [1, 3]
    assert store.count_events() == 8


def test_retention_deletes_only_events_older_than_the_window(store: EventStore) -> None:
    store.write_events([event("door", s) for s in range(10)])
    now_ns = T0_NS + 10 * 10**9
    assert store.purge_older_than(4.0, now_ns=now_ns) == 6  # seconds 0..5 are over 4 s old
    assert [e.stamp_ns for e in store.read_events()] == [T0_NS + s * 10**9 for s in range(6, 10)]
    assert store.read_events(since_ns=T0_NS + 7 * 10**9, until_ns=T0_NS + 9 * 10**9) == [
        event("door", 7),
        event("door", 8),
    ]


def test_password_from_the_environment(
    store: EventStore, mariadb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = without_password(mariadb)
    monkeypatch.setenv(PASSWORD_ENV, urlsplit(mariadb).password)
    with_env = open_store(url)
    try:
        assert with_env.write_events([event("env", 0)]) == 1
    finally:
        with_env.close()
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(mysql.connector.errors.ProgrammingError, match="Access denied"):
        open_store(mariadb)  # the environment wins over the URL's password
    assert [e.camera_id for e in store.read_events()] == ["env"]


def test_face_report_reads_the_mysql_store(
    store: EventStore,
    mariadb: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    tmp_path: Path,
) -> None:
    store.write_events(
        [event("door", s, face_id=1 + s % 2, gender="male" if s % 2 else "female") for s in range(4)]
    )
    monkeypatch.setenv(PASSWORD_ENV, urlsplit(mariadb).password)
    assert report_main(["--database", without_password(mariadb), "--plots-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "events: 4" in printed and "customers (distinct face IDs): 2" in printed
    assert urlsplit(mariadb).password not in printed


def test_visits_written_in_batches_equal_the_rebuilt_ones_and_follow_erasure_and_retention(
    store: EventStore, mariadb: str
) -> None:
    gap_s = 10.0
    events = [
        event(camera, start + t, index, face_id, age=20.0 + t)
        for face_id, camera, start, index in ((1, "cam0", 0, 0), (1, "cam1", 5, 0), (2, "cam0", 3, 1))
        for t in (0, 1, 2, 12, 23, 24, 60)
    ]
    events.sort(key=lambda e: e.stamp_ns)
    writer = RetryingEventWriter(lambda: open_store(mariadb, visit_gap_s=gap_s))
    for i in range(0, len(events), 4):
        writer.submit(events[i : i + 4])
        assert writer.flush().error is None
    writer.close()
    expected = visits_from_events(events, gap_s)
    assert store.read_visits() == expected and len(expected) == 9
    gapped = open_store(mariadb, visit_gap_s=gap_s)
    try:
        assert gapped.rebuild_visits() == len(expected)
        assert gapped.read_visits() == expected
        gapped.erase_face(2)
        gapped.purge_older_than(1.0, now_ns=T0_NS + 25 * 10**9)  # keeps what came from 24 s on
        kept = [e for e in events if e.face_id != 2 and e.stamp_ns >= T0_NS + 24 * 10**9]
        assert gapped.read_visits() == visits_from_events(kept, gap_s)
    finally:
        gapped.close()
