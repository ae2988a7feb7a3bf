"""Loyalty from the visits table: a face's earlier store visits (its cameras' visits merged), not
counting the current one; the table read from the sink's SQLite store, reopened after a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_sink.mysql_store import DatabaseUrlError, open_existing_store
from face_sink.schema import open_sqlite_store
from face_sink.visits import Visit
from signage_node.loyalty import VisitCounts, VisitsTable

S = 10**9
DAY = 86_400 * S
T0 = 1_700_000_000 * S
GAP_S = 1800.0


def visit(face_id: int, camera: str, start_s: float, end_s: float) -> Visit:
    return Visit(face_id, camera, T0 + round(start_s * S), T0 + round(end_s * S), 30.0, "male", 2)


def test_earlier_visits_merge_cameras_and_leave_out_the_current_visit() -> None:
    counts = VisitCounts(GAP_S)
    assert counts.earlier_visits(7, T0) is None  # nothing read yet
    counts.load(
        [
            visit(7, "door", 0, 300),
            visit(7, "till", 240, 600),  # same trip: two cameras
            visit(7, "door", 600 + GAP_S + 1, 600 + GAP_S + 60),  # a second trip, over a gap later
            visit(8, "door", 0, 10),
        ]
    )
    second_end_s = 600 + GAP_S + 60
    assert counts.earlier_visits(7, T0 + DAY) == 2
    # During the second trip (its last sighting within a gap): only the first one is earlier.
    assert counts.earlier_visits(7, T0 + round((second_end_s + GAP_S) * S)) == 1
    assert counts.earlier_visits(7, T0 + round((second_end_s + GAP_S) * S) + 1) == 2
    assert counts.earlier_visits(7, T0 + 500 * S) == 0  # the first trip is the current one
    assert counts.earlier_visits(9, T0 + DAY) == 0  # not in the table: a first visit
    assert counts.earlier_visits(UNKNOWN_FACE_ID, T0 + DAY) is None


def event(t_s: float, face_id: int) -> FaceEvent:
    return FaceEvent("door", T0 + round(t_s * S), 0, face_id, 30.0, "male", Box(0, 0, 10, 10), 0.1, False)


def test_the_table_is_read_from_the_store_and_a_missing_file_is_retried(tmp_path: Path) -> None:
    database = tmp_path / "events.sqlite"
    table = VisitsTable(lambda: open_existing_store(database, visit_gap_s=GAP_S))
    with pytest.raises(DatabaseUrlError, match="no event database"):
        table.read()
    assert not database.exists()  # read only: the signage never creates the store

    store = open_sqlite_store(database, visit_gap_s=GAP_S)
    store.write_events([event(0, 7), event(10, 7), event(DAY / S, 7)])
    store.close()
    counts = VisitCounts(GAP_S)
    counts.load(table.read())
    table.close()
    assert counts.earlier_visits(7, T0 + 2 * DAY) == 2


class FakeStore:
    """A store whose read fails (as when a MySQL server went away) or answers one visit."""

    def __init__(self, fails: bool) -> None:
        self.fails = fails
        self.closed = False

    def read_visits(self) -> list[Visit]:
        if self.fails:
            raise ConnectionError("server has gone away")
        return [visit(7, "door", 0, 1)]

    def close(self) -> None:
        self.closed = True


def test_a_failed_read_closes_the_store_and_the_next_read_reopens_it() -> None:
    stores = [FakeStore(fails=True), FakeStore(fails=False)]
    opened = iter(stores)
    table = VisitsTable(lambda: next(opened))
    with pytest.raises(ConnectionError):
        table.read()
    assert stores[0].closed
    assert table.read() == [visit(7, "door", 0, 1)] and not stores[1].closed
