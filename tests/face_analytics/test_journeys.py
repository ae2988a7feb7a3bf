"""Journeys from hand-made camera visits whose answers are counted by hand: most common journeys and
their ties, the from/to transition matrix (consecutive stops only), transit times (overlap is 0 s)
and the period a visit belongs to."""

from __future__ import annotations

import pytest
from face_analytics.journeys import (
    TransitionMatrix,
    in_period,
    journey_counts,
    transition_matrix,
    transition_rows,
    transition_seconds,
)
from face_analytics.visit_stats import StoreVisit, store_visits
from face_sink.visits import Visit

S = 10**9
T0 = 1_700_000_000 * S


def visit(face_id: int, camera: str, start_s: float, end_s: float) -> Visit:
    return Visit(face_id, camera, T0 + round(start_s * S), T0 + round(end_s * S), 30.0, "female", 2)


def hand_made() -> list[StoreVisit]:
    """Six customers, one store visit each (all stops within the 1800 s visit gap)."""
    visits = [
        visit(1, "cam0", 0, 60),
        visit(1, "cam1", 90, 120),  # 30 s walk
        visit(2, "cam0", 0, 100),
        visit(2, "cam1", 50, 200),  # seen on both at once: 0 s, not -50 s
        visit(3, "cam1", 0, 10),  # one camera only: a journey of one stop
        visit(4, "cam1", 0, 10),
        visit(4, "cam0", 20, 30),  # the other way round, 10 s
        visit(5, "cam0", 0, 10),
        visit(5, "cam1", 20, 30),
        visit(5, "cam2", 40, 50),  # cam0 > cam1 > cam2: no cam0 -> cam2 transition
        visit(6, "cam2", 0, 5),
    ]
    trips = store_visits(visits, visit_gap_s=1800)
    assert len(trips) == 6
    return trips


def test_most_common_journeys_first_ties_by_cameras_and_single_stops_count():
    assert journey_counts(hand_made()) == [
        (("cam0", "cam1"), 2),
        (("cam0", "cam1", "cam2"), 1),
        (("cam1",), 1),
        (("cam1", "cam0"), 1),
        (("cam2",), 1),
    ]


def test_ties_do_not_depend_on_input_order():
    trips = hand_made()
    assert journey_counts(reversed(trips)) == journey_counts(trips)
    one_each = [StoreVisit(1, T0, T0, (visit(1, cam, 0, 1),)) for cam in ("cam9", "cam2", "cam5")]
    assert [journey for journey, _ in journey_counts(one_each)] == [("cam2",), ("cam5",), ("cam9",)]


def test_transition_matrix_counts_consecutive_stops_from_row_to_column():
    matrix = transition_matrix(hand_made())
    assert matrix.cameras == ("cam0", "cam1", "cam2")
    assert matrix.counts == (
        (0, 3, 0),  # cam0 -> cam1: faces 1, 2, 5; never cam0 -> cam2
        (1, 0, 1),  # cam1 -> cam0: face 4; cam1 -> cam2: face 5
        (0, 0, 0),  # cam2 is a last stop (face 5) or the only one (face 6): a zero row, not missing
    )
    assert matrix.total == 5


def test_a_camera_followed_by_itself_lands_on_the_diagonal():
    # on cam1 throughout; cam0 twice, apart by more than the visit gap, so two camera visits
    stops = (visit(1, "cam1", 0, 5000), visit(1, "cam0", 10, 20), visit(1, "cam0", 4000, 4010))
    trip = StoreVisit(1, T0, T0 + 5000 * S, stops)
    assert transition_matrix([trip]) == TransitionMatrix(("cam0", "cam1"), ((1, 0), (1, 0)))
    assert transition_seconds([trip]) == {("cam0", "cam0"): [3980.0], ("cam1", "cam0"): [0.0]}


def test_transition_times_per_pair_with_overlap_as_zero():
    seconds = transition_seconds(hand_made())
    assert seconds == {
        ("cam0", "cam1"): [30.0, 0.0, 10.0],
        ("cam1", "cam0"): [10.0],
        ("cam1", "cam2"): [10.0],
    }
    rows = transition_rows(seconds)
    assert [(r.from_camera, r.to_camera, r.count) for r in rows] == [
        ("cam0", "cam1", 3),
        ("cam1", "cam0", 1),
        ("cam1", "cam2", 1),
    ]
    assert rows[0].median_s == 10.0
    assert rows[0].p90_s == pytest.approx(26.0)  # 0, 10, 30: 10 + 0.8 * 20
    assert (rows[1].median_s, rows[1].p90_s) == (10.0, 10.0)


def test_no_trips_no_journeys():
    assert journey_counts([]) == []
    assert transition_matrix([]) == TransitionMatrix((), ())
    assert transition_matrix([]).total == 0
    assert transition_seconds([]) == {} and transition_rows({}) == []
    lone = hand_made()[2]  # face 3: one stop, no transition
    assert transition_matrix([lone]) == TransitionMatrix(("cam1",), ((0,),))


def test_a_visit_belongs_to_the_period_it_starts_in():
    early, inside, late = visit(1, "cam0", 0, 100), visit(2, "cam0", 60, 70), visit(3, "cam0", 120, 130)
    since, until = T0 + 60 * S, T0 + 120 * S
    assert in_period([early, inside, late], since, until) == [inside]  # since inclusive, until exclusive
    assert in_period([early, inside, late], None, until) == [early, inside]
    assert in_period([early, inside, late], since, None) == [inside, late]
    assert in_period([early, inside, late], None, None) == [early, inside, late]
    # store visits too: a trip begun before the period stays out whole, not cut to its later stops
    trips = store_visits([early, visit(1, "cam1", 90, 95), inside], visit_gap_s=1800)
    kept = in_period(trips, since, until)
    assert [(t.face_id, t.cameras) for t in kept] == [(2, ("cam0",))]
    assert journey_counts(kept) == [(("cam0",), 1)]
