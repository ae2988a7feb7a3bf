"""Pure aggregation of the visits table into repeat-customer and dwell-time numbers (no I/O).

The visits table holds one row per face ID, camera and visit, so a customer who walks past two
cameras has two rows for one trip to the store. Repeat-customer counts therefore first merge a
face's visits on all cameras into store visits (overlapping, or apart by no more than the visit
gap); dwell time stays per camera, as the table measures it. Periods are UTC days and ISO weeks,
keyed by the start of the visit, so a visit over midnight counts once, on the day it began.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from face_sink.stats import age_bucket
from face_sink.visits import UNKNOWN_GENDER, Visit

NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class StoreVisit:
    """One trip of one customer to the store, over every camera that saw it.

    ``stops`` are its camera visits by start time: the customer's journey through the store.
    """

    face_id: int
    start_ns: int
    end_ns: int
    stops: tuple[Visit, ...] = ()

    @property
    def cameras(self) -> tuple[str, ...]:
        """The journey: cameras in the order the customer reached them."""
        return tuple(stop.camera_id for stop in self.stops)

    @property
    def transit_s(self) -> tuple[float, ...]:
        """Seconds from leaving each camera to appearing on the next (0 where the views overlap)."""
        return tuple(
            max(0, after.start_ns - before.end_ns) / 1e9 for before, after in itertools.pairwise(self.stops)
        )


@dataclass(frozen=True)
class RepeatRow:
    """Repeat customers in one period (a UTC day or an ISO week)."""

    period: str
    customers: int
    new: int
    returning: int
    visits: int
    median_days_since_last: float | None  # over returning customers; None when there are none

    @property
    def visits_per_customer(self) -> float:
        return self.visits / self.customers if self.customers else 0.0


@dataclass(frozen=True)
class DwellRow:
    """Dwell-time distribution of one group of visits (a camera or an age/gender bucket)."""

    group: str
    count: int
    median_s: float
    p90_s: float


def utc_day(stamp_ns: int) -> str:
    """``YYYY-MM-DD`` of a stamp, in UTC (the store's days do not move with the server's zone)."""
    return datetime.fromtimestamp(stamp_ns // 10**9, UTC).strftime("%Y-%m-%d")


def iso_week(stamp_ns: int) -> str:
    """``YYYY-Www`` ISO week (Monday to Sunday, UTC) of a stamp; the year is the ISO year."""
    year, week, _ = datetime.fromtimestamp(stamp_ns // 10**9, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def store_visits(visits: Iterable[Visit], visit_gap_s: float) -> list[StoreVisit]:
    """Each face's camera visits merged when they overlap or lie within ``visit_gap_s``."""
    gap_ns = round(visit_gap_s * 1e9)
    by_face: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_face[visit.face_id].append(visit)
    merged: list[StoreVisit] = []
    for face_id in sorted(by_face):
        trips: list[StoreVisit] = []
        for visit in sorted(by_face[face_id], key=lambda v: (v.start_ns, v.camera_id)):
            if trips and visit.start_ns - trips[-1].end_ns <= gap_ns:
                last = trips[-1]
                trips[-1] = StoreVisit(
                    face_id, last.start_ns, max(last.end_ns, visit.end_ns), (*last.stops, visit)
                )
            else:
                trips.append(StoreVisit(face_id, visit.start_ns, visit.end_ns, (visit,)))
        merged += trips
    return merged


def repeat_customers(trips: Sequence[StoreVisit], period_of: Callable[[int], str]) -> list[RepeatRow]:
    """Per period (``utc_day`` or ``iso_week``): customers, new vs returning, visits, days since last.

    A customer is new in the period of their first visit ever and returning in any later one; days
    since last visit run from the end of their latest visit before the period to their first visit
    in it."""
    by_face: dict[int, list[StoreVisit]] = defaultdict(list)
    for trip in trips:
        by_face[trip.face_id].append(trip)
    # period -> face -> that face's visits in the period, in time order
    periods: dict[str, dict[int, list[StoreVisit]]] = defaultdict(lambda: defaultdict(list))
    earlier_end: dict[tuple[str, int], int | None] = {}
    for face_id, face_trips in by_face.items():
        face_trips.sort(key=lambda t: t.start_ns)
        last_end: int | None = None
        for trip in face_trips:
            period = period_of(trip.start_ns)
            if face_id not in periods[period]:
                earlier_end[(period, face_id)] = last_end
            periods[period][face_id].append(trip)
            last_end = trip.end_ns if last_end is None else max(last_end, trip.end_ns)
    rows = []
    for period in sorted(periods):
        faces = periods[period]
        gaps = [
            (faces[face_id][0].start_ns - end) / NS_PER_DAY
            for face_id in faces
            if (end := earlier_end[(period, face_id)]) is not None
        ]
        rows.append(
            RepeatRow(
                period=period,
                customers=len(faces),
                new=len(faces) - len(gaps),
                returning=len(gaps),
                visits=sum(len(v) for v in faces.values()),
                median_days_since_last=float(statistics.median(gaps)) if gaps else None,
            )
        )
    return rows


def visit_bucket(visit: Visit) -> str:
    """The report's age bucket and gender label of a visit, e.g. ``25-34 female``."""
    return f"{age_bucket(visit.age)} {visit.gender or UNKNOWN_GENDER}"


def dwell_by(visits: Iterable[Visit], group_of: Callable[[Visit], str]) -> dict[str, list[float]]:
    """Dwell seconds of the visits, grouped (e.g. by camera or by :func:`visit_bucket`), sorted by group."""
    groups: dict[str, list[float]] = defaultdict(list)
    for visit in visits:
        groups[group_of(visit)].append(visit.dwell_s)
    return {group: groups[group] for group in sorted(groups)}


def dwell_rows(groups: dict[str, list[float]]) -> list[DwellRow]:
    """Count, median and 90th percentile (linear interpolation) of each group's dwell seconds."""
    return [
        DwellRow(group, len(dwell), float(np.median(dwell)), float(np.percentile(dwell, 90)))
        for group, dwell in groups.items()
        if dwell
    ]
