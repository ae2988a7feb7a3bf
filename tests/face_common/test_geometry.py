"""IoU and one-to-one matching, checked on boxes whose answers can be worked out by hand."""

from __future__ import annotations

import math

import pytest
from face_common.faces import Box
from face_common.geometry import MatchCounts, count_matches, iou, match_greedy

A = Box(0, 0, 10, 10)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (A, A, 1.0),
        (A, Box(10, 0, 10, 10), 0.0),  # touching edges share no pixel
        (A, Box(10, 10, 5, 5), 0.0),  # touching corners
        (A, Box(50, 50, 10, 10), 0.0),
        (A, Box(5, 0, 10, 10), 50 / 150),  # half overlap
        (A, Box(0, 0, 5, 10), 0.5),  # contained half
        (A, Box(2, 2, 6, 6), 36 / 100),
        (A, Box(0, 0, 0, 0), 0.0),  # degenerate box
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


def test_no_predictions_or_no_truth_match_nothing() -> None:
    assert match_greedy([], [A]) == []
    assert match_greedy([A], []) == []
    assert match_greedy([], []) == []


def test_threshold_is_inclusive() -> None:
    assert match_greedy([Box(0, 0, 5, 10)], [A], iou_threshold=0.5) == [(0, 0)]
    assert match_greedy([Box(0, 0, 5, 10)], [A], iou_threshold=0.51) == []


def test_touching_boxes_never_match() -> None:
    assert match_greedy([Box(10, 0, 10, 10)], [A], iou_threshold=0.0) == [(0, 0)]  # IoU 0 >= 0
    assert match_greedy([Box(10, 0, 10, 10)], [A], iou_threshold=0.01) == []


def test_each_box_is_used_once() -> None:
    # Two predictions on one face: one hit, one left over.
    assert match_greedy([A, Box(1, 0, 10, 10)], [A]) == [(0, 0)]
    # One prediction on two faces: only one face is found.
    assert match_greedy([A], [A, Box(1, 0, 10, 10)]) == [(0, 0)]


def test_greedy_takes_best_overlap_first() -> None:
    left, right = Box(0, 0, 10, 10), Box(6, 0, 10, 10)
    between = Box(4, 0, 10, 10)  # IoU 0.43 with left, 0.67 with right
    exact_left = Box(0, 0, 10, 10)
    pairs = match_greedy([between, exact_left], [left, right], iou_threshold=0.4)
    assert sorted(pairs) == [(0, 1), (1, 0)]


@pytest.mark.parametrize(
    ("predicted", "truth", "ignored", "expected"),
    [
        ([], [], [], MatchCounts(0, 0, 0)),
        ([], [A], [], MatchCounts(0, 0, 1)),
        ([A], [], [], MatchCounts(0, 1, 0)),
        ([A], [A], [], MatchCounts(1, 0, 0)),
        ([A, Box(100, 0, 10, 10)], [A, Box(0, 100, 10, 10)], [], MatchCounts(1, 1, 1)),
        # A detection on an ignored face is neither a hit nor a false alarm...
        ([Box(100, 0, 10, 10)], [], [Box(100, 0, 10, 10)], MatchCounts(0, 0, 0)),
        # ...and an ignored face nobody found is no miss.
        ([A], [A], [Box(100, 0, 10, 10)], MatchCounts(1, 0, 0)),
    ],
)
def test_count_matches(
    predicted: list[Box], truth: list[Box], ignored: list[Box], expected: MatchCounts
) -> None:
    assert count_matches(predicted, truth, ignored) == expected


def test_recall_and_precision() -> None:
    counts = MatchCounts(3, 1, 0) + MatchCounts(1, 0, 4)
    assert counts == MatchCounts(4, 1, 4)
    assert counts.recall == pytest.approx(0.5)
    assert counts.precision == pytest.approx(0.8)


def test_undefined_ratios_are_nan() -> None:
    assert math.isnan(MatchCounts(0, 0, 0).recall)
    assert math.isnan(MatchCounts(0, 0, 0).precision)
    assert MatchCounts(0, 0, 3).recall == 0.0
    assert math.isnan(MatchCounts(0, 0, 3).precision)
