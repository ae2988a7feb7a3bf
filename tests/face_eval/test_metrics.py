"""The metric functions on small cases whose answers can be checked by hand."""

from __future__ import annotations

import math

import pytest
from face_common.faces import Box
from face_eval.metrics import (
    LabelledImage,
    accuracy,
    age_error,
    average_precision,
    detection_scores,
    ids_per_person,
    mean_age_error,
    pairwise_scores,
    ranked_detections,
    roc_auc,
)

FACE = Box(10, 10, 10, 10)


def nan_equal(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


@pytest.mark.parametrize(
    ("predicted", "is_hit"),
    [
        (Box(10, 10, 10, 10), True),  # the same box
        (Box(10, 10, 10, 20), True),  # IoU exactly 0.5 counts
        (Box(15, 10, 10, 10), False),  # half a box over: IoU 1/3
        (Box(20, 10, 10, 10), False),  # edges touch: IoU 0
        (Box(100, 100, 10, 10), False),  # far away
        (Box(12, 12, 0, 0), False),  # empty box inside the face
    ],
    ids=["same", "iou-0.5", "iou-1/3", "touching", "disjoint", "empty"],
)
def test_one_detection_is_a_hit_only_at_iou_half_or_more(predicted: Box, is_hit: bool) -> None:
    assert ranked_detections(LabelledImage([(predicted, 0.9)], [FACE])) == [(0.9, is_hit)]
    scores = detection_scores([LabelledImage([(predicted, 0.9)], [FACE])])
    assert scores.recall == (1.0 if is_hit else 0.0)
    assert scores.precision == (1.0 if is_hit else 0.0)


def test_a_second_detection_of_one_face_is_a_false_alarm_and_the_surer_one_counts() -> None:
    image = LabelledImage([(Box(11, 10, 10, 10), 0.2), (Box(10, 10, 10, 10), 0.7)], [FACE])
    assert ranked_detections(image) == [(0.7, True), (0.2, False)]
    scores = detection_scores([image])
    assert (scores.precision, scores.recall) == (0.5, 1.0)
    assert scores.average_precision == 1.0  # the duplicate ranks below the only face


def test_a_detection_on_an_ignored_face_counts_neither_way() -> None:
    ignored = Box(50, 50, 10, 10)
    image = LabelledImage([(ignored, 0.99), (FACE, 0.5)], truth=[FACE], ignored=[ignored])
    assert ranked_detections(image) == [(0.5, True)]
    scores = detection_scores([image])
    assert (scores.precision, scores.recall, scores.average_precision) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("images", "precision", "recall", "ap"),
    [
        ([LabelledImage([], [FACE, Box(40, 40, 9, 9)])], math.nan, 0.0, 0.0),  # no detections
        ([LabelledImage([(FACE, 1.0)], [])], 0.0, math.nan, math.nan),  # no ground truth
        ([LabelledImage([], [])], math.nan, math.nan, math.nan),  # nothing at all
        ([], math.nan, math.nan, math.nan),  # no images
    ],
    ids=["no-detections", "no-truth", "empty-image", "no-images"],
)
def test_empty_sides_give_nan_or_zero_never_a_perfect_score(
    images: list[LabelledImage], precision: float, recall: float, ap: float
) -> None:
    scores = detection_scores(images)
    assert nan_equal(scores.precision, precision)
    assert nan_equal(scores.recall, recall)
    assert nan_equal(scores.average_precision, ap)


@pytest.mark.parametrize(
    ("ranked", "num_truth", "ap"),
    [
        ([(0.9, True), (0.8, True), (0.7, True), (0.1, False)], 3, 1.0),  # perfect ranking
        ([(0.9, False), (0.8, False), (0.7, True), (0.6, True)], 2, 0.5),  # reversed: P = 1/3, 1/2
        ([(0.9, True), (0.8, False), (0.7, True)], 3, 1 / 3 + 1 / 3 * 2 / 3),  # envelope at recall 2/3
        ([(0.7, True), (0.9, False), (0.8, True)], 3, 2 * (1 / 3 * 2 / 3)),  # sorted by score; envelope
        ([(0.5, True)], 4, 0.25),  # unfound faces cap recall
        ([(0.5, False)], 1, 0.0),
        ([], 1, 0.0),
        ([(0.5, True)], 0, math.nan),
    ],
)
def test_average_precision_is_the_area_under_the_interpolated_curve(
    ranked: list[tuple[float, bool]], num_truth: int, ap: float
) -> None:
    assert nan_equal(average_precision(ranked, num_truth), ap)


def test_detection_scores_pool_the_ranking_across_images() -> None:
    """A confident false alarm in one image lowers the AP of the faces found in another."""
    found = LabelledImage([(FACE, 0.5)], [FACE])
    false_alarm = LabelledImage([(Box(60, 60, 10, 10), 0.9)], [])
    scores = detection_scores([found, false_alarm])
    assert (scores.images, scores.faces, scores.detections) == (2, 1, 2)
    assert scores.average_precision == pytest.approx(0.5)
    assert detection_scores([found]).average_precision == 1.0


TWO_PEOPLE = ["ann", "ann", "bob", "bob"]


@pytest.mark.parametrize(
    ("face_ids", "precision", "recall", "f1"),
    [
        ([1, 1, 2, 2], 1.0, 1.0, 1.0),
        ([1, 1, 1, 1], 2 / 6, 1.0, 0.5),  # everybody merged
        ([1, 2, 3, 4], math.nan, 0.0, math.nan),  # everybody split: no pair under one ID
        ([1, 2, 1, 2], 0.0, 0.0, 0.0),  # every pair wrong
        ([1, 1, 2, 3], 1.0, 0.5, 2 / 3),  # bob split
        ([1, None, 2, 2], 1.0, 0.5, 2 / 3),  # a photo with no face is an ID of its own
        ([None, None, 2, 2], 1.0, 0.5, 2 / 3),  # two missing faces are not one ID
    ],
)
def test_pairwise_scores_on_two_people(
    face_ids: list[int | None], precision: float, recall: float, f1: float
) -> None:
    scores = pairwise_scores(TWO_PEOPLE, face_ids)
    assert nan_equal(scores.precision, precision)
    assert nan_equal(scores.recall, recall)
    assert nan_equal(scores.f1, f1)


@pytest.mark.parametrize(
    ("face_ids", "expected"),
    [
        ([1, 1, 2, 2], {"ann": 1, "bob": 1}),
        ([1, 2, 3, 3], {"ann": 2, "bob": 1}),
        ([7, 7, 7, 7], {"ann": 1, "bob": 1}),
        ([None, None, 2, 2], {"ann": 2, "bob": 1}),
    ],
)
def test_ids_per_person(face_ids: list[int | None], expected: dict[str, int]) -> None:
    assert ids_per_person(TWO_PEOPLE, face_ids) == expected


def test_pairwise_scores_reject_lists_of_different_length() -> None:
    with pytest.raises(ValueError, match="3 persons but 2 face IDs"):
        pairwise_scores(["a", "b", "c"], [1, 2])


@pytest.mark.parametrize(
    ("scores", "positives", "auc"),
    [
        ([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 1.0),
        ([0.1, 0.2, 0.8, 0.9], [True, True, False, False], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [True, False, True, False], 0.5),  # all tied
        ([0.8, 0.5, 0.5, 0.2], [True, True, False, False], 0.875),  # one tied pair counts 1/2
        ([-math.inf, -1.0], [True, False], 0.0),  # a pair without a face ranks last
        ([0.3, 0.4], [True, True], math.nan),  # no negatives
        ([], [], math.nan),
    ],
)
def test_roc_auc(scores: list[float], positives: list[bool], auc: float) -> None:
    assert nan_equal(roc_auc(scores, positives), auc)


def test_accuracy() -> None:
    assert accuracy(["male", "female", "male"], ["male", "male", "male"]) == pytest.approx(2 / 3)
    assert math.isnan(accuracy([], []))
    with pytest.raises(ValueError):
        accuracy([True], [])


@pytest.mark.parametrize(
    ("age", "age_min", "age_max", "error"),
    [
        (25.0, 20, 29, 0.0),  # inside a bracket
        (20.0, 20, 29, 0.0),  # on its ends
        (29.0, 20, 29, 0.0),
        (17.5, 20, 29, 2.5),  # below
        (35.0, 20, 29, 6.0),  # above
        (95.0, 70, math.inf, 0.0),  # open bracket "70+"
        (60.0, 70, math.inf, 10.0),
        (30.0, 33, 33, 3.0),  # an exact age is a one-point range
        (36.0, 33, 33, 3.0),
    ],
)
def test_age_error_is_zero_inside_the_labelled_range(
    age: float, age_min: float, age_max: float, error: float
) -> None:
    assert age_error(age, age_min, age_max) == pytest.approx(error)


def test_mean_age_error() -> None:
    assert mean_age_error([25.0, 35.0, 10.0], [(20, 29), (20, 29), (10, 10)]) == pytest.approx(2.0)
    assert math.isnan(mean_age_error([], []))
    with pytest.raises(ValueError, match="empty age range"):
        age_error(30.0, 40, 30)
