"""Customer journeys through the store's cameras, from store visits (pure, no I/O).

A journey is the ordered cameras of one store visit (:class:`StoreVisit`); a customer seen by one
camera only still made a journey, of one stop. The report needs three views of them: which
journeys are most common (where people go), how often each camera follows each other one (the
store's flow between views, a from/to matrix) and how long the walk between two cameras takes
(transit from leaving one view to appearing on the next, 0 when the views overlap). Only
consecutive stops make a transition: cam0 > cam1 > cam2 moves cam0 to cam1 and cam1 to cam2,
never cam0 to cam2.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from face_analytics.visit_stats import StoreVisit

Journey = tuple[str, ...]
Pair = tuple[str, str]


class _Started(Protocol):
    @property
    def start_ns(self) -> int: ...


StartedT = TypeVar("StartedT", bound=_Started)


@dataclass(frozen=True)
class TransitionMatrix:
    """Transition counts between cameras: ``counts[i][j]`` moves from ``cameras[i]`` to ``cameras[j]``.

    ``cameras`` lists every camera of the journeys, sorted, so a camera nobody walked on from or to
    still has its (zero) row and column instead of silently dropping out of the table.
    """

    cameras: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


@dataclass(frozen=True)
class TransitionRow:
    """Transit seconds of every move from one camera to the next one: count, median and p90."""

    from_camera: str
    to_camera: str
    count: int
    median_s: float
    p90_s: float


def in_period(items: Iterable[StartedT], since_ns: int | None, until_ns: int | None) -> list[StartedT]:
    """Visits (camera or store) that start in ``[since, until)``; ``None`` leaves that side open.

    A visit belongs to the period it starts in, as repeat customers count a visit on the day it
    began: a trip that started before the period is left out whole rather than cut into a shorter,
    made-up journey.
    """
    return [
        item
        for item in items
        if (since_ns is None or item.start_ns >= since_ns) and (until_ns is None or item.start_ns < until_ns)
    ]


def journey_counts(trips: Iterable[StoreVisit]) -> list[tuple[Journey, int]]:
    """Each journey (cameras in order) and how many store visits took it: most common first, ties
    by the journey's cameras in alphabetical order so the same data always prints the same list."""
    counts = Counter(trip.cameras for trip in trips if trip.stops)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def transition_pairs(trip: StoreVisit) -> list[tuple[Pair, float]]:
    """A trip's moves between consecutive stops, each with its transit seconds."""
    return list(zip(itertools.pairwise(trip.cameras), trip.transit_s, strict=True))


def transition_matrix(trips: Sequence[StoreVisit]) -> TransitionMatrix:
    """How often each camera was followed by each camera (consecutive stops only), from row to column."""
    cameras = tuple(sorted({camera for trip in trips for camera in trip.cameras}))
    index = {camera: i for i, camera in enumerate(cameras)}
    counts = [[0] * len(cameras) for _ in cameras]
    for trip in trips:
        for (before, after), _ in transition_pairs(trip):
            counts[index[before]][index[after]] += 1
    return TransitionMatrix(cameras, tuple(tuple(row) for row in counts))


def transition_seconds(trips: Iterable[StoreVisit]) -> dict[Pair, list[float]]:
    """Transit seconds of every move, grouped by (from, to) camera pair, pairs sorted."""
    groups: dict[Pair, list[float]] = defaultdict(list)
    for trip in trips:
        for pair, seconds in transition_pairs(trip):
            groups[pair].append(seconds)
    return {pair: groups[pair] for pair in sorted(groups)}


def transition_rows(groups: dict[Pair, list[float]]) -> list[TransitionRow]:
    """Count, median and 90th percentile (linear interpolation, as dwell time) of each pair's seconds."""
    return [
        TransitionRow(
            before, after, len(seconds), float(np.median(seconds)), float(np.percentile(seconds, 90))
        )
        for (before, after), seconds in groups.items()
        if seconds
    ]
