"""Repeat customers and dwell from hand-made visits: UTC day and ISO week edges, two cameras."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from face_analytics.visit_stats import (
    StoreVisit,
    dwell_by,
    dwell_rows,
    iso_week,
    repeat_customers,
    store_visits,
    utc_day,
    visit_bucket,
)
from face_sink.visits import Visit

S = 10**9


def at(day: int, hour: int, minute: int = 0) -> int:
    """Stamp of a time in November 2023, UTC (the 13th is a Monday, the 19th a Sunday)."""
    return int(datetime(2023, 11, day, hour, minute, tzinfo=UTC).timestamp()) * S


def visit(
    face_id: int, camera: str, start: int, end: int, age: float = 30.0, gender: str = "female"
) -> Visit:
    return Visit(face_id, camera, start, end, age, gender, sightings=2)


def hand_made() -> list[Visit]:
    return [
        # face 1: Monday on both cameras in one trip, back on Thursday exactly 3 days after leaving
        visit(1, "cam0", at(13, 10, 0), at(13, 10, 5)),
        visit(1, "cam1", at(13, 10, 6), at(13, 10, 10)),
        visit(1, "cam0", at(16, 10, 10), at(16, 10, 20)),
        # face 2: Sunday 23:50 over midnight into the next ISO week, back Monday noon
        visit(2, "cam0", at(19, 23, 50), at(20, 0, 10), math.nan, ""),
        visit(2, "cam1", at(20, 12, 0), at(20, 12, 2), math.nan, ""),
    ]


def test_periods_are_utc_days_and_iso_weeks():
    assert utc_day(at(19, 23, 59)) == "2023-11-19" and utc_day(at(20, 0, 0)) == "2023-11-20"
    assert iso_week(at(19, 23, 59)) == "2023-W46" and iso_week(at(20, 0, 0)) == "2023-W47"
    assert iso_week(int(datetime(2021, 1, 3, tzinfo=UTC).timestamp()) * S) == "2020-W53"  # ISO year


def test_store_visits_merge_cameras_within_the_gap_only():
    visits = hand_made()
    trips = store_visits(visits, visit_gap_s=1800)
    assert trips == [
        StoreVisit(1, at(13, 10, 0), at(13, 10, 10), (visits[0], visits[1])),
        StoreVisit(1, at(16, 10, 10), at(16, 10, 20), (visits[2],)),
        StoreVisit(2, at(19, 23, 50), at(20, 0, 10), (visits[3],)),
        StoreVisit(2, at(20, 12, 0), at(20, 12, 2), (visits[4],)),
    ]
    assert len(store_visits(visits, visit_gap_s=30)) == 5  # 60 s between the cameras: two trips


def test_a_store_visit_is_a_journey_through_its_cameras_in_order():
    trip = store_visits(hand_made(), visit_gap_s=1800)[0]
    assert (trip.cameras, trip.transit_s) == (("cam0", "cam1"), (60.0,))
    overlapping = [
        visit(3, "cam1", at(13, 10, 1), at(13, 10, 3)),
        visit(3, "cam0", at(13, 10, 0), at(13, 10, 2)),
    ]
    (both,) = store_visits(overlapping, visit_gap_s=0)
    assert (both.cameras, both.transit_s) == (("cam0", "cam1"), (0.0,))  # seen on both at once


def test_repeat_customers_by_day():
    rows = repeat_customers(store_visits(hand_made(), 1800), utc_day)
    got = {r.period: (r.customers, r.new, r.returning, r.visits, r.median_days_since_last) for r in rows}
    assert got == {
        "2023-11-13": (1, 1, 0, 1, None),
        "2023-11-16": (1, 0, 1, 1, pytest.approx(3.0)),
        "2023-11-19": (1, 1, 0, 1, None),  # the midnight visit counts on the day it began
        "2023-11-20": (1, 0, 1, 1, pytest.approx((11 * 60 + 50) / 1440)),
    }


def test_repeat_customers_by_week():
    rows = repeat_customers(store_visits(hand_made(), 1800), iso_week)
    assert [(r.period, r.customers, r.new, r.returning, r.visits) for r in rows] == [
        ("2023-W46", 2, 2, 0, 3),  # face 1's Thursday return is in its first week: still new
        ("2023-W47", 1, 0, 1, 1),
    ]
    assert rows[0].visits_per_customer == 1.5 and rows[0].median_days_since_last is None
    assert rows[1].median_days_since_last == pytest.approx((11 * 60 + 50) / 1440)


def test_days_since_last_is_the_median_over_returning_customers():
    trips = [StoreVisit(1, at(13, 10), at(13, 11)), StoreVisit(2, at(14, 10), at(14, 11))]
    trips += [StoreVisit(f, at(17, 11), at(17, 12)) for f in (1, 2, 3)]
    (*_, friday) = repeat_customers(trips, utc_day)
    assert (friday.customers, friday.new, friday.returning) == (3, 1, 2)
    assert friday.median_days_since_last == pytest.approx((4 + 3) / 2)
    assert repeat_customers([], utc_day) == []


def test_dwell_per_camera_and_bucket():
    visits = hand_made()
    cameras = dwell_rows(dwell_by(visits, lambda v: v.camera_id))
    assert [(r.group, r.count) for r in cameras] == [("cam0", 3), ("cam1", 2)]
    assert cameras[0].median_s == 600 and cameras[0].p90_s == pytest.approx(1080)  # 300, 600, 1200
    assert cameras[1].median_s == 180 and cameras[1].p90_s == pytest.approx(228)  # 120, 240
    buckets = dwell_rows(dwell_by(visits, visit_bucket))
    assert [(r.group, r.count, r.median_s) for r in buckets] == [
        ("25-34 female", 3, 300),
        ("unknown unknown", 2, 660),
    ]
    assert dwell_rows({}) == []
