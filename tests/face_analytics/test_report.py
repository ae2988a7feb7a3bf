"""The report command end to end on a real SQLite store: Table I, summary, repeat customers, dwell,
journeys, heat maps, the period options and the PNG plots."""

from __future__ import annotations

import math

import cv2
import pytest
from face_analytics.heatmap import GREY
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


def journey_events() -> list[FaceEvent]:
    """Two cameras; every camera visit is its first and last event. Five store visits start between
    09:00 and 12:00 on 2023-11-13, face 6's starts 10 s before 09:00 and face 7's a day later."""
    ten = 1_699_833_600 * S + 10 * 3600 * S  # 2023-11-13 10:00 UTC
    minute = 60 * S
    visits = [  # (face, camera, start, end)
        (1, "cam0", ten, ten + 60 * S),
        (1, "cam1", ten + 90 * S, ten + 120 * S),  # 30 s walk
        (2, "cam0", ten + 10 * minute, ten + 10 * minute + 100 * S),
        (2, "cam1", ten + 10 * minute + 50 * S, ten + 10 * minute + 200 * S),  # overlap: 0 s
        (3, "cam1", ten + 20 * minute, ten + 20 * minute + 10 * S),  # one camera only
        (4, "cam1", ten + 30 * minute, ten + 30 * minute + 10 * S),
        (4, "cam0", ten + 30 * minute + 20 * S, ten + 30 * minute + 30 * S),  # back the other way: 10 s
        (5, "cam0", ten + 40 * minute, ten + 40 * minute + 10 * S),
        (5, "cam1", ten + 40 * minute + 20 * S, ten + 40 * minute + 30 * S),  # 10 s
        (6, "cam1", ten - 60 * minute - 10 * S, ten - 60 * minute + 10 * S),  # starts 08:59:50
        (6, "cam0", ten - 60 * minute + 30 * S, ten - 60 * minute + 40 * S),
        (7, "cam0", ten + 24 * 60 * minute, ten + 24 * 60 * minute + 10 * S),  # the next day
        (7, "cam1", ten + 24 * 60 * minute + 20 * S, ten + 24 * 60 * minute + 30 * S),
    ]
    box = {"cam0": Box(600, 300, 80, 80), "cam1": Box(100, 100, 80, 80)}
    return [
        FaceEvent(cam, stamp, 0, fid, 30.0, "female", box[cam], 0.2, False)
        for fid, cam, start, end in visits
        for stamp in (start, end)
    ]


def test_report_prints_journeys_transitions_and_heat_maps_for_a_period(tmp_path, capsys):
    database = tmp_path / "events.sqlite"
    store = open_sqlite_store(database)
    store.write_events(journey_events())
    store.close()
    plots = tmp_path / "plots"
    period = ["--start", "2023-11-13T09:00", "--end", "2023-11-13T12:00"]
    assert main(["--database", str(database), "--plots-dir", str(plots), *period]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "customers (distinct face IDs): 6" in lines  # events: face 6's inside the period, not 7's
    # visits by their start: face 6's cam0 visit (10 s) is in, its cam1 visit and trip are not
    assert "cam0                 5       10.0       84.0" in lines  # 10, 10, 10, 60, 100 s
    assert "cam1                 5       10.0      102.0" in lines  # 10, 10, 10, 30, 150 s
    assert "2023-11-13          5      5          0         1.00                -" in lines
    journeys = lines.index("journeys (most common; cameras in order within one store visit):")
    assert lines[journeys + 1 : journeys + 5] == [
        "visits   share  journey",
        "     3   60.0%  cam0 > cam1",  # faces 1, 2, 5
        "     1   20.0%  cam1",  # ties by cameras: face 3's single stop first
        "     1   20.0%  cam1 > cam0",  # face 4
    ]
    matrix = lines.index("transitions between cameras (from row to column):")
    assert lines[matrix + 1 : matrix + 4] == [
        "from \\ to    cam0    cam1",
        "cam0            0       3",
        "cam1            1       0",
    ]
    times = lines.index("transition times (s from leaving one camera to appearing on the next):")
    assert lines[times + 1 : times + 4] == [
        "from -> to       count   median s      p90 s",
        "cam0 -> cam1         3       10.0       26.0",  # 30, 0, 10 s
        "cam1 -> cam0         1       10.0       10.0",
    ]
    heat = next(i for i, line in enumerate(lines) if line.startswith("heat maps"))
    # every event's frame counts 1 s (the cap): cam1 loses face 6's 08:59:50 event, both lose face 7
    assert lines[heat + 2 : heat + 4] == [
        f"cam0          10          10.0  {plots / 'heat_cam0.png'}",
        f"cam1          11          11.0  {plots / 'heat_cam1.png'}",
    ]
    assert f"wrote {plots / 'journeys.png'}" in lines
    for name in ("journeys.png", "dwell.png", "heat_cam0.png", "heat_cam1.png"):
        assert_png(plots / name)
    image = cv2.imread(str(plots / "heat_cam0.png"))
    assert image.shape == (720, 1280, 3)
    assert (image[340, 640] != GREY).any()  # heat over cam0's face box
    assert (image[700, 20] == GREY).all()  # grey canvas far from it


def test_report_without_a_period_counts_every_journey(tmp_path, capsys):
    database = tmp_path / "events.sqlite"
    store = open_sqlite_store(database)
    store.write_events(journey_events())
    store.close()
    assert main(["--database", str(database), "--plots-dir", str(tmp_path), "--max-journeys", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    journeys = lines.index("journeys (most common; cameras in order within one store visit):")
    assert lines[journeys + 2 : journeys + 4] == [
        "     4   57.1%  cam0 > cam1",  # faces 1, 2, 5, 7 of 7 store visits
        "... 2 more journeys (--max-journeys 0 prints all)",
    ]
    assert "cam1 -> cam0         2       15.0       19.0" in lines  # 10 s (face 4), 20 s (face 6)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (["--start", "2023-11-13T12:00", "--end", "2023-11-13T09:00"], "is not after --start"),
        (["--start", "yesterday"], "yesterday"),
    ],
)
def test_an_empty_or_unreadable_period_is_refused(tmp_path, capsys, period, message):
    database = tmp_path / "events.sqlite"
    open_sqlite_store(database).close()
    assert main(["--database", str(database), "--plots-dir", str(tmp_path / "plots"), *period]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()
