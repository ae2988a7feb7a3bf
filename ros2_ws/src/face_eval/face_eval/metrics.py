"""Accuracy metrics as pure functions of predictions and labels (no files, no models).

Every function answers NaN when its quantity is undefined (no ground truth, no pairs, an empty
class) rather than a flattering 0 or 1, so an empty slice of a data set cannot pass for a result.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from face_common.faces import Box
from face_common.geometry import MatchCounts, count_matches, iou

Detection = tuple[Box, float]


@dataclass(frozen=True)
class LabelledImage:
    """One image's detections and its ground truth; ``ignored`` faces count neither way."""

    predicted: Sequence[Detection]
    truth: Sequence[Box]
    ignored: Sequence[Box] = ()


def ranked_detections(image: LabelledImage, iou_threshold: float = 0.5) -> list[tuple[float, bool]]:
    """``(score, is_hit)`` for each detection of one image that is not on an ignored face.

    The matching a ranking needs (PASCAL VOC / WIDER FACE): detections in descending score take
    the face they overlap most; a hit on a face already taken is a duplicate, hence a false alarm;
    a detection whose best face is an ignored one drops out of the ranking.
    """
    faces = [*image.truth, *image.ignored]
    taken: set[int] = set()
    ranked = []
    for box, score in sorted(image.predicted, key=lambda d: -d[1]):
        overlaps = [iou(box, face) for face in faces]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best < 0 or overlaps[best] < iou_threshold:
            ranked.append((score, False))
        elif best >= len(image.truth):
            continue
        else:
            ranked.append((score, best not in taken))
            taken.add(best)
    return ranked


def average_precision(ranked: Sequence[tuple[float, bool]], num_truth: int) -> float:
    """Area under the precision/recall curve of detections ranked by score, all-point interpolated.

    Precision at each recall is the best precision at that recall or beyond (the curve's upper
    envelope), as in PASCAL VOC since 2010 and the WIDER FACE evaluation. NaN without ground truth.
    """
    if num_truth == 0:
        return math.nan
    hits = np.array([hit for _, hit in sorted(ranked, key=lambda r: -r[0])], dtype=bool)
    if not hits.any():
        return 0.0
    true_positives = np.cumsum(hits)
    recall = np.concatenate([[0.0], true_positives / num_truth])
    precision = true_positives / np.arange(1, len(hits) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * envelope))


@dataclass(frozen=True)
class DetectionScores:
    """Precision/recall at the detector's own operating point, and AP over its scores."""

    images: int
    faces: int
    detections: int
    precision: float
    recall: float
    average_precision: float


def detection_scores(images: Sequence[LabelledImage], iou_threshold: float = 0.5) -> DetectionScores:
    """Scores over several images; precision and recall count as the detection tests count
    (:func:`face_common.geometry.count_matches`)."""
    counts = MatchCounts()
    ranked: list[tuple[float, bool]] = []
    for image in images:
        counts += count_matches(
            [box for box, _ in image.predicted], image.truth, image.ignored, iou_threshold
        )
        ranked += ranked_detections(image, iou_threshold)
    num_truth = sum(len(image.truth) for image in images)
    return DetectionScores(
        images=len(images),
        faces=num_truth,
        detections=sum(len(image.predicted) for image in images),
        precision=counts.precision,
        recall=counts.recall,
        average_precision=average_precision(ranked, num_truth),
    )


@dataclass(frozen=True)
class PairwiseScores:
    """Pairs of images put under one face ID, scored against pairs showing one person."""

    precision: float
    recall: float
    f1: float


def _clusters_with_singletons(face_ids: Sequence[int | None]) -> list[Hashable]:
    """Face IDs with each missing one (no face found) made a cluster of its own."""
    return [("missing", i) if face_id is None else face_id for i, face_id in enumerate(face_ids)]


def _same_pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_scores(persons: Sequence[str], face_ids: Sequence[int | None]) -> PairwiseScores:
    """Pairwise precision/recall/F1 of a clustering (``face_ids``) against ``persons``.

    Precision: of the image pairs given one ID, the share showing one person (merges hurt it).
    Recall: of the pairs showing one person, the share given one ID (splits hurt it). An image
    without a face ID (``None``) is an ID of its own.
    """
    if len(persons) != len(face_ids):
        raise ValueError(f"{len(persons)} persons but {len(face_ids)} face IDs")
    clusters = _clusters_with_singletons(face_ids)
    both = _same_pairs(Counter(zip(persons, clusters, strict=True)))
    predicted = _same_pairs(Counter(clusters))
    actual = _same_pairs(Counter(persons))
    precision = both / predicted if predicted else math.nan
    recall = both / actual if actual else math.nan
    if math.isnan(precision) or math.isnan(recall):
        f1 = math.nan
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(precision, recall, f1)


def ids_per_person(persons: Sequence[str], face_ids: Sequence[int | None]) -> dict[str, int]:
    """How many distinct face IDs each person got (1 is ideal); a missing ID counts as one."""
    ids: dict[str, set[Hashable]] = defaultdict(set)
    for person, cluster in zip(persons, _clusters_with_singletons(face_ids), strict=True):
        ids[person].add(cluster)
    return {person: len(found) for person, found in ids.items()}


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative.

    Computed from average ranks (Mann-Whitney U), so tied scores count one half. NaN when either
    class is empty. Scores may be +-inf (e.g. a pair whose face was not found).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    if scores.shape != positives.shape:
        raise ValueError(f"{scores.shape} scores but {positives.shape} labels")
    n_pos = int(positives.sum())
    n_neg = len(positives) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based rank, ties share the mean
    rank_sum = float(average_rank[inverse][positives].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Share of equal pairs; NaN when empty."""
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predictions but {len(truth)} labels")
    if not truth:
        return math.nan
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def age_error(age: float, age_min: float, age_max: float = math.inf) -> float:
    """Years outside the labelled range ``[age_min, age_max]`` (0 inside).

    An exact label is the range ``[age, age]``; an open bracket such as FairFace's ``70+`` has
    ``age_max = inf``.
    """
    if age_max < age_min:
        raise ValueError(f"empty age range [{age_min}, {age_max}]")
    return max(age_min - age, 0.0, age - age_max)


def mean_age_error(ages: Sequence[float], ranges: Sequence[tuple[float, float]]) -> float:
    """Mean of :func:`age_error` (the MAE for exact labels); NaN when empty."""
    if len(ages) != len(ranges):
        raise ValueError(f"{len(ages)} ages but {len(ranges)} labels")
    if not ages:
        return math.nan
    return sum(age_error(a, lo, hi) for a, (lo, hi) in zip(ages, ranges, strict=True)) / len(ages)
