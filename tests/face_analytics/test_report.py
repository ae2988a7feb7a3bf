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
