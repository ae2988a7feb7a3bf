"""The visits table: the pure core on hand-made events, and the store keeping it as events arrive.

The table written batch by batch through the sink's writer must equal the one ``rebuild_visits``
makes of the same events (the issue's "same result both ways"); erasure and retention reach it.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from face_analytics.visits import main as visits_main
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_sink.schema import SQLITE, VISITS_TABLE, EventStore, open_sqlite_store
from face_sink.visits import Visit, visits_from_events
from face_sink.writer import RetryingEventWriter

S = 10**9
T0 = 1_700_000_000 * S
GAP_S = 10.0


def ev(
    t_s: float,
    face_id: int = 1,
    camera: str = "cam0",
    age: float = 30.0,
    gender: str = "male",
    index: int = 0,
) -> FaceEvent:
    return FaceEvent(camera, T0 + round(t_s * S), index, face_id, age, gender, Box(0, 0, 10, 10), 0.1, False)


def test_a_gap_exactly_at_the_threshold_continues_the_visit() -> None:
    visits = visits_from_events([ev(0), ev(GAP_S), ev(2 * GAP_S + 0.001)], GAP_S)
    assert [(v.start_ns, v.end_ns, v.sightings) for v in visits] == [
        (T0, T0 + 10 * S, 2),
        (T0 + 20_001_000_000, T0 + 20_001_000_000, 1),
    ]
    assert visits[0].dwell_s == 10.0 and visits[1].dwell_s == 0.0


def test_two_cameras_make_separate_visits_and_unknown_ids_none() -> None:
    events = [ev(0, camera="cam1"), ev(1, camera="cam0"), ev(2, camera="cam1")]
    events += [ev(t, face_id=UNKNOWN_FACE_ID) for t in range(3)]
    visits = visits_from_events(events, GAP_S)
    assert [(v.face_id, v.camera_id, v.sightings) for v in visits] == [(1, "cam0", 1), (1, "cam1", 2)]


def test_age_is_the_median_and_gender_the_majority_of_the_visit() -> None:
    events = [ev(0, age=20, gender="female"), ev(1, age=math.nan, gender=""), ev(2, age=40, gender="female")]
    events += [ev(3, age=90, gender="male"), ev(100, age=math.nan, gender="male"), ev(101, gender="female")]
    first, second = visits_from_events(events, GAP_S)
    assert (first.age, first.gender, first.sightings) == (40.0, "female", 4)
    assert (second.age, second.gender) == (30.0, "")  # a tie is no guess


def test_visits_order_by_face_camera_and_start_whatever_the_input_order() -> None:
    events = [ev(50, face_id=2), ev(0, face_id=2), ev(30), ev(0)]
    visits = visits_from_events(events, GAP_S)
    assert [(v.face_id, v.start_ns) for v in visits] == [(1, T0), (1, T0 + 30 * S), (2, T0), (2, T0 + 50 * S)]


def scene() -> list[FaceEvent]:
    """Two faces on two cameras with gaps below, at and above the threshold, and unknown faces."""
    events = []
    for face_id, camera, start in ((1, "cam0", 0), (1, "cam1", 5), (2, "cam0", 3)):
        for i, t in enumerate((0, 1, 2, 12, 22.5, 23, 60, 61)):
            events.append(ev(start + t, face_id, camera, age=20 + face_id + i, index=face_id))
    events += [ev(t, UNKNOWN_FACE_ID, "cam0", index=9) for t in (0, 30)]
    return sorted(events, key=lambda e: e.stamp_ns)


def write_in_batches(path: Path, events: list[FaceEvent], batch: int) -> None:
    writer = RetryingEventWriter(lambda: open_sqlite_store(path, visit_gap_s=GAP_S))
    for i in range(0, len(events), batch):
        writer.submit(events[i : i + batch])
        assert writer.flush().error is None
    writer.submit(events[:batch])  # a replay changes nothing
    assert writer.flush().error is None
    writer.close()


def visits_at(path: Path) -> list[Visit]:
    store = open_sqlite_store(path, visit_gap_s=GAP_S)
    try:
        return store.read_visits()
    finally:
        store.close()


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_writing_in_batches_gives_the_rebuilt_table(tmp_path: Path, batch: int) -> None:
    events = scene()
    written = tmp_path / "written.sqlite"
    write_in_batches(written, events, batch)
    incremental = visits_at(written)
    assert incremental == visits_from_events(events, GAP_S)
    assert len(incremental) == 3 * 3  # per face and camera: 0-12, 22.5-23, 60-61
    store = open_sqlite_store(written, visit_gap_s=GAP_S)
    assert store.rebuild_visits() == len(incremental)
    assert store.read_visits() == incremental
    store.close()


def test_late_events_between_visits_join_them(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    store = open_sqlite_store(path, visit_gap_s=GAP_S)
    store.write_events([ev(0), ev(20)])
    assert len(store.read_visits()) == 2
    store.write_events([ev(10)])  # arrives late and bridges the gap
    assert [(v.start_ns, v.end_ns, v.sightings) for v in store.read_visits()] == [(T0, T0 + 20 * S, 3)]
    store.close()


def test_erasure_removes_the_faces_visits_everywhere(tmp_path: Path) -> None:
    store = open_sqlite_store(tmp_path / "events.sqlite", visit_gap_s=GAP_S)
    store.write_events(scene())
    store.erase_face(1)
    assert {v.face_id for v in store.read_visits()} == {2}
    store.close()


def test_retention_shrinks_and_removes_visits(tmp_path: Path) -> None:
    store = open_sqlite_store(tmp_path / "events.sqlite", visit_gap_s=GAP_S)
    events = scene()
    store.write_events(events)
    store.purge_older_than(1.0, now_ns=T0 + 24 * S)  # keeps what came from 23 s on
    kept = [e for e in events if e.stamp_ns >= T0 + 23 * S]
    assert store.read_visits() == visits_from_events(kept, GAP_S)
    assert store.read_visits()[0].start_ns == T0 + 23 * S  # face 1's second visit shrank
    store.close()


def test_visits_rows_hold_utc_text_dwell_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    store = open_sqlite_store(path, visit_gap_s=GAP_S)
    store.write_events([ev(0, age=math.nan, gender=""), ev(1.5, age=math.nan, gender="")])
    store.close()
    con = sqlite3.connect(path)
    row = con.execute(f"SELECT {', '.join(VISITS_TABLE.column_names)} FROM face_visits").fetchone()
    con.close()
    assert row == (1, "cam0", T0, "2023-11-14 22:13:20.000000", T0 + 15 * S // 10,
                   "2023-11-14 22:13:21.500000", 1.5, None, None, 2)  # fmt: skip


def test_a_database_from_before_the_visits_table_gets_it_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    store = open_sqlite_store(path, visit_gap_s=GAP_S)
    store.write_events(scene())
    store.close()
    con = sqlite3.connect(path)
    con.execute("DROP TABLE face_visits")
    con.execute("UPDATE schema_version SET version = 1")
    con.commit()
    con.close()
    assert visits_at(path) == visits_from_events(scene(), GAP_S)


def test_face_visits_command_rebuilds_with_its_gap(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "events.sqlite"
    store = open_sqlite_store(path, visit_gap_s=GAP_S)
    store.write_events(scene())
    store.close()
    assert visits_main(["--database", str(path), "--rebuild", "--visit-gap-s", "100"]) == 0
    assert "3 visits (gap 100 s) rebuilt" in capsys.readouterr().out
    assert visits_at(path) == visits_from_events(scene(), 100.0)
    assert visits_main(["--database", str(tmp_path / "missing.sqlite"), "--rebuild"]) == 2
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="visit gap"):
        EventStore(sqlite3.connect(":memory:"), SQLITE, visit_gap_s=-1.0)
