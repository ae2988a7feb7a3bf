"""Report aggregation on hand-made events: counts, visits at the gap edge, buckets, gender."""

from __future__ import annotations

import math

import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_sink.stats import (
    age_bucket,
    count_visits,
    customer_profiles,
    summarize,
    table_rows,
)
from face_sink.visits import majority_gender, visit_spans

S = 10**9
T0 = 1_700_000_000 * S


def ev(
    t_s: float, face_id: int, age: float = 30.0, gender: str = "male", camera: str = "cam0", index: int = 0
):
    return FaceEvent(camera, T0 + round(t_s * S), index, face_id, age, gender, Box(0, 0, 10, 10), 0.3, False)


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        (0.0, "0-17"),
        (17.0, "0-17"),
        (17.9, "0-17"),
        (18.0, "18-24"),
        (24.99, "18-24"),
        (25.0, "25-34"),
        (44.5, "35-44"),
        (54.0, "45-54"),
        (64.0, "55-64"),
        (64.9, "55-64"),
        (65.0, "65+"),
        (101.0, "65+"),
        (-0.5, "0-17"),
        (math.nan, "unknown"),
    ],
)
def test_age_bucket_edges(age, bucket):
    assert age_bucket(age) == bucket


@pytest.mark.parametrize(
    ("gaps_s", "visits"),
    [
        ([], 1),
        ([60.0, 60.0], 1),
        ([1800.0], 1),  # exactly the gap: still the same visit
        ([1800.001], 2),  # just over: a new visit
        ([10.0, 3600.0, 10.0, 7200.0], 3),
    ],
)
def test_count_visits_at_the_gap_edge(gaps_s, visits):
    stamps = [0]
    for gap in gaps_s:
        stamps.append(stamps[-1] + round(gap * S))
    assert count_visits(stamps, visit_gap_s=1800.0) == visits


def test_count_visits_of_nothing_is_zero():
    assert count_visits([], 10.0) == 0


@pytest.mark.parametrize(
    ("genders", "expected"),
    [
        (["female", "female", "male"], "female"),
        (["male", "", "male"], "male"),
        (["female", "male"], "unknown"),  # tie: no guess
        (["", ""], "unknown"),
        ([], "unknown"),
    ],
)
def test_majority_gender(genders, expected):
    assert majority_gender(genders) == expected


def test_customers_new_and_repeat_across_cameras():
    events = [
        # face 1: two appearances 10 s apart on two cameras -> one visit
        ev(0, 1, camera="door"),
        ev(10, 1, camera="till"),
        # face 2: back after an hour -> repeat
        ev(0, 2, index=1),
        ev(3600, 2),
        # face 3: once
        ev(50, 3),
        # no face ID: counted as an event, not a customer
        ev(60, UNKNOWN_FACE_ID),
    ]
    summary = summarize(events, visit_gap_s=1800)
    assert (summary.events, summary.unidentified_events) == (6, 1)
    assert (summary.customers, summary.new_customers, summary.repeat_customers) == (3, 2, 1)
    assert {p.face_id: p.visits for p in summary.profiles} == {1: 1, 2: 2, 3: 1}


def test_age_per_customer_is_the_median_and_buckets_count_customers():
    events = [ev(t, 1, age=a) for t, a in enumerate([16.0, 17.5, 40.0])]  # median 17.5 -> 0-17
    events += [ev(t, 2, age=a) for t, a in enumerate([18.0, 18.2, math.nan])]  # NaN ignored -> 18.1
    events += [ev(0, 3, age=64.9), ev(1, 4, age=65.0), ev(2, 5, age=math.nan)]
    profiles = customer_profiles(events, visit_gap_s=60)
    assert profiles[1].median_age == 17.5
    assert profiles[2].median_age == pytest.approx(18.1)
    assert profiles[2].ages == (18.0, 18.2)
    assert math.isnan(profiles[5].median_age)
    buckets = summarize(events, visit_gap_s=60).age_buckets
    assert buckets == {
        "0-17": 1,
        "18-24": 1,
        "25-34": 0,
        "35-44": 0,
        "45-54": 0,
        "55-64": 1,
        "65+": 1,
        "unknown": 1,
    }


def test_gender_ratio_ignores_unknown_customers():
    events = [ev(0, 1, gender="female"), ev(1, 1, gender="female"), ev(2, 1, gender="male")]
    events += [ev(0, 2, gender="male"), ev(0, 3, gender="female"), ev(0, 4, gender="")]
    events += [ev(0, 5, gender="female"), ev(1, 5, gender="male")]  # tie -> unknown
    summary = summarize(events, visit_gap_s=60)
    assert summary.genders == {"female": 2, "male": 1, "unknown": 2}
    assert summary.female_share == pytest.approx(2 / 3)


def test_gender_by_age_stacks_add_up_to_the_buckets():
    events = [ev(0, i, age=20.0 + i, gender=("female", "male", "")[i % 3]) for i in range(1, 10)]
    summary = summarize(events, visit_gap_s=60)
    for bucket, by_gender in summary.gender_by_age.items():
        assert sum(by_gender.values()) == summary.age_buckets[bucket]
    assert summary.gender_by_age["18-24"] == {"female": 1, "male": 2, "unknown": 1}  # ages 21..24


def test_no_events_gives_empty_summary():
    summary = summarize([], visit_gap_s=60)
    assert (summary.customers, summary.female_share, summary.profiles) == (0, None, ())


def test_table_rows_are_in_capture_order():
    events = [
        ev(5, 2, age=40.0, gender="female"),
        ev(1, 1, camera="b"),
        ev(1, 3, camera="a"),
        ev(2, UNKNOWN_FACE_ID),  # not identified: not in the table
    ]
    rows = table_rows(events)
    assert [(r.stamp_ns - T0, r.face_id) for r in rows] == [(S, 3), (S, 1), (5 * S, 2)]
    assert (rows[2].age, rows[2].gender) == (40.0, "female")


@pytest.mark.parametrize(
    ("stamps_s", "gap_s", "spans_s"),
    [
        ([], 5, []),
        ([3], 5, [(3, 3)]),
        ([0, 1, 2, 10, 11], 5, [(0, 2), (10, 11)]),
        ([0, 5, 10], 5, [(0, 10)]),  # a gap of exactly visit_gap_s stays in the visit
        ([0, 5, 10], 4.9, [(0, 0), (5, 5), (10, 10)]),
        ([11, 0, 10], 5, [(0, 0), (10, 11)]),  # unsorted input
    ],
)
def test_visit_spans_cut_where_a_new_visit_is_counted(
    stamps_s: list[int], gap_s: float, spans_s: list[tuple[int, int]]
) -> None:
    stamps = [s * 10**9 for s in stamps_s]
    spans = visit_spans(stamps, gap_s)
    assert spans == [(a * 10**9, b * 10**9) for a, b in spans_s]
    assert len(spans) == count_visits(sorted(stamps), gap_s)
