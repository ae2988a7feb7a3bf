"""The report command end to end on a real SQLite store: Table I, summary and PNG plots."""

from __future__ import annotations

import math

from face_analytics.report import main
from face_common.faces import Box, FaceEvent
from face_sink.schema import open_sqlite_store

S = 10**9
T0 = 1_700_000_000 * S
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sample_events() -> list[FaceEvent]:
    rows = [
        (0, 1, 31.0, "female"),
        (1, 1, 33.0, "female"),
        (2, 2, 70.0, "male"),
        (4000, 1, 32.0, "female"),  # face 1 returns after > 30 min
        (4001, 3, math.nan, ""),
    ]
    return [
        FaceEvent("cam0", T0 + t * S, 0, fid, age, g, Box(1, 2, 3, 4), 0.2, False) for t, fid, age, g in rows
    ]


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 2000


def test_report_prints_table_and_summary_and_writes_plots(tmp_path, capsys):
    database = tmp_path / "events.sqlite"
    store = open_sqlite_store(database)
    store.write_events(sample_events())
    store.close()
    assert main(["--database", str(database), "--plots-dir", str(tmp_path / "plots"), "--max-rows", "3"]) == 0
    out = capsys.readouterr().out
    assert "2023-11-14 22:13:20.000000   31.0  female         1" in out
    assert "... 2 more rows" in out
    assert "customers (distinct face IDs): 3" in out
    assert "new customers: 2, repeat customers: 1" in out
    assert "female 1, male 1, unknown 1" in out
    assert "50.0% female" in out
    assert "25-34: 1" in out and "65+: 1" in out and "unknown: 1" in out
    assert_png(tmp_path / "plots" / "age_by_face.png")
    assert_png(tmp_path / "plots" / "gender_by_age.png")


def test_missing_database_is_a_clear_error_not_a_new_file(tmp_path, capsys):
    database = tmp_path / "none.sqlite"
    assert main(["--database", str(database)]) == 2
    assert "no event database" in capsys.readouterr().err
    assert not database.exists()


def test_report_prints_repeat_customers_and_dwell_from_the_visits_table(tmp_path, capsys):
    """Two cameras, a return 3 days later, through the writer (which keeps the visits table)."""
    monday = 1_699_833_600 * S  # 2023-11-13 00:00 UTC, a Monday
    hour, day = 3600 * S, 86_400 * S
    visits = [  # (face, camera, start, dwell s, age, gender); each visit is two events
        (1, "cam0", monday + 10 * hour, 300, 30.0, "female"),
        (1, "cam1", monday + 10 * hour + 360 * S, 240, 30.0, "female"),  # same trip, other camera
        (1, "cam0", monday + 3 * day + 10 * hour + 600 * S, 600, 31.0, "female"),  # 3 days after leaving
        (2, "cam0", monday + 6 * day + 23 * hour, 120, 70.0, "male"),  # Sunday: ISO week 46
    ]
    events = [
        FaceEvent(cam, start + dt * S, 0, fid, age, g, Box(1, 2, 3, 4), 0.2, False)
        for fid, cam, start, dwell, age, g in visits
        for dt in (0, dwell)
    ]
    database = tmp_path / "events.sqlite"
    store = open_sqlite_store(database)
    store.write_events(events)
    store.close()
    assert main(["--database", str(database), "--plots-dir", str(tmp_path / "plots")]) == 0
    lines = capsys.readouterr().out.splitlines()
    # day: customers, new, returning, visits/customer, median days since last visit
    assert lines.count("2023-11-13          1      1          0         1.00                -") == 1
    assert "2023-11-16          1      0          1         1.00              3.0" in lines
    assert "2023-W46            2      2          0         1.50                -" in lines
    assert "cam0                 3      300.0      540.0" in lines  # 120, 300, 600 s
    assert "cam1                 1      240.0      240.0" in lines
    assert "25-34 female         3      300.0      540.0" in lines  # 240, 300, 600 s
    assert "65+ male             1      120.0      120.0" in lines
    assert_png(tmp_path / "plots" / "dwell.png")
