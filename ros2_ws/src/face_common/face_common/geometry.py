"""Box geometry in one place: IoU, one-to-one greedy matching, and detection counts (recall,
precision) scored with them.

Pure logic next to :class:`~face_common.faces.Box`, shared by the tracker, the accuracy tests and
offline evaluation, so all of them overlap and count the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from face_common.faces import Box


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, each covering ``[x, x + w) x [y, y + h)``."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def match_greedy(
    predicted: Sequence[Box], truth: Sequence[Box], iou_threshold: float = 0.5
) -> list[tuple[int, int]]:
    """Pair predictions with truth boxes one-to-one, best IoU first.

    Returns ``(predicted_index, truth_index)`` pairs with IoU >= ``iou_threshold``. Greedy on the
    global IoU order means a prediction that sits between two faces goes to the one it covers
    best, and no face is counted twice.
    """
    candidates = sorted(
        (
            (-overlap, p, t)
            for p, pb in enumerate(predicted)
            for t, tb in enumerate(truth)
            if (overlap := iou(pb, tb)) >= iou_threshold
        ),
    )
    used_p: set[int] = set()
    used_t: set[int] = set()
    pairs = []
    for _, p, t in candidates:
        if p not in used_p and t not in used_t:
            used_p.add(p)
            used_t.add(t)
            pairs.append((p, t))
    return pairs


@dataclass
class MatchCounts:
    """Detection outcome counts; add them up over images, then read recall and precision."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )

    @property
    def recall(self) -> float:
        """Found faces / labelled faces; NaN when nothing was labelled."""
        total = self.true_positives + self.false_negatives
        return self.true_positives / total if total else math.nan

    @property
    def precision(self) -> float:
        """Correct detections / detections; NaN when nothing was detected."""
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else math.nan


def count_matches(
    predicted: Sequence[Box],
    truth: Sequence[Box],
    ignored: Sequence[Box] = (),
    iou_threshold: float = 0.5,
) -> MatchCounts:
    """Count hits, false alarms and misses in one image.

    ``ignored`` boxes (e.g. WIDER FACE's invalid or out-of-setting faces) are matched like
    truth, but a prediction on one is neither a hit nor a false alarm, and missing one is no miss.
    """
    pairs = match_greedy(predicted, [*truth, *ignored], iou_threshold)
    hits = sum(1 for _, t in pairs if t < len(truth))
    on_ignored = len(pairs) - hits
    return MatchCounts(
        true_positives=hits,
        false_positives=len(predicted) - hits - on_ignored,
        false_negatives=len(truth) - hits,
    )
