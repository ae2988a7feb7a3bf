"""``face_hourly_counts`` (aggregates-only mode): a camera's hour is replaced whole by each record,
so a replay changes nothing and a fuller record supersedes a partial one; nothing is clipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from face_sink.schema import (
    HOUR_NS,
    HourCell,
    HourlyCounts,
    InvalidEvent,
    hourly_count_rows,
    open_sqlite_store,
)

CAM = "till"
HOUR = 490_000 * HOUR_NS
CELLS = (HourCell("18-24", "female", 1, 1), HourCell("25-34", "male", 2, 1))


def test_the_table_holds_exactly_the_latest_record_of_each_hour(tmp_path: Path) -> None:
    store = open_sqlite_store(tmp_path / "events.sqlite")
    first = HourlyCounts(CAM, HOUR, CELLS)
    later = HourlyCounts(CAM, HOUR, (HourCell("25-34", "male", 3, 1),))  # a cell it no longer has goes
    next_hour = HourlyCounts(CAM, HOUR + HOUR_NS, CELLS)
    store.apply([first, next_hour])
    store.apply([first, next_hour])  # a replay: same rows
    assert store.read_hourly_counts() == [
        HourlyCounts(CAM, HOUR, CELLS),
        HourlyCounts(CAM, HOUR + HOUR_NS, CELLS),
    ]
    assert store.apply([later]).hours == 1
    assert store.read_hourly_counts()[0] == later
    store.close()


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        (HourlyCounts(CAM, HOUR + 1, CELLS), "not the start of an hour"),
        (HourlyCounts(CAM, HOUR, (HourCell("25-34", "male", 2**31, 1),)), "sightings 2147483648 is outside"),
        (HourlyCounts(CAM, HOUR, (*CELLS, CELLS[0])), "given twice"),
        (HourlyCounts("x" * 65, HOUR, CELLS), "camera id"),
        (HourlyCounts(CAM, HOUR, (HourCell("", "male", 1, 1),)), "age bucket must be a label"),
    ],
)
def test_counts_no_column_holds_are_refused_whole(tmp_path: Path, counts: HourlyCounts, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        hourly_count_rows(counts)
    store = open_sqlite_store(tmp_path / "events.sqlite")
    with pytest.raises(InvalidEvent):
        store.apply([HourlyCounts(CAM, HOUR - HOUR_NS, CELLS), counts])
    assert store.read_hourly_counts() == []  # the batch's transaction is rolled back
    store.close()
