"""Pure core of the visits table: a face ID's events on one camera, cut into visits by gaps.

One definition serves the sink (which keeps the table current as events arrive), the rebuild
command and the report, so "a visit" means the same everywhere: a run of one face ID's events on
one camera with no gap longer than ``visit_gap_s``. Per-event age and gender estimates are noisy,
so a visit's age is the median of its estimates and its gender the majority of them. No I/O here.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from face_common.faces import GENDERS, UNKNOWN_FACE_ID, FaceEvent

DEFAULT_VISIT_GAP_S = 1800.0
UNKNOWN_GENDER = "unknown"


def visit_spans(stamps_ns: Iterable[int], visit_gap_s: float) -> list[tuple[int, int]]:
    """First and last stamp of each visit: a gap longer than ``visit_gap_s`` starts a new one."""
    gap_ns = round(visit_gap_s * 1e9)
    spans: list[tuple[int, int]] = []
    for stamp in sorted(stamps_ns):
        if spans and stamp - spans[-1][1] <= gap_ns:
            spans[-1] = (spans[-1][0], stamp)
        else:
            spans.append((stamp, stamp))
    return spans


def majority_gender(genders: Iterable[str]) -> str:
    """The most frequent estimate; a tie or no estimate is ``unknown`` rather than a guess."""
    counts = Counter(g for g in genders if g in GENDERS).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return UNKNOWN_GENDER
    return counts[0][0]


@dataclass(frozen=True)
class Visit:
    """One row of the visits table; ``age`` is NaN and ``gender`` empty when no event had one."""

    face_id: int
    camera_id: str
    start_ns: int
    end_ns: int
    age: float
    gender: str
    sightings: int

    @property
    def dwell_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


def _visit(face_id: int, camera_id: str, events: list[FaceEvent]) -> Visit:
    ages = [e.age for e in events if not math.isnan(e.age)]
    gender = majority_gender(e.gender for e in events)
    return Visit(
        face_id=face_id,
        camera_id=camera_id,
        start_ns=events[0].stamp_ns,
        end_ns=events[-1].stamp_ns,
        age=float(statistics.median(ages)) if ages else math.nan,
        gender="" if gender == UNKNOWN_GENDER else gender,
        sightings=len(events),
    )


def visits_from_events(events: Iterable[FaceEvent], visit_gap_s: float) -> list[Visit]:
    """Every visit in ``events`` (unknown face IDs make none), ordered by face, camera and start."""
    by_key: dict[tuple[int, str], list[FaceEvent]] = defaultdict(list)
    for event in events:
        if event.face_id != UNKNOWN_FACE_ID:
            by_key[(event.face_id, event.camera_id)].append(event)
    visits = []
    for (face_id, camera_id), key_events in sorted(by_key.items()):
        ordered = sorted(key_events, key=lambda e: (e.stamp_ns, e.face_index))
        spans = iter(visit_spans((e.stamp_ns for e in ordered), visit_gap_s))
        _, end = next(spans)
        current: list[FaceEvent] = []
        for event in ordered:
            if event.stamp_ns > end:
                visits.append(_visit(face_id, camera_id, current))
                _, end = next(spans)
                current = []
            current.append(event)
        visits.append(_visit(face_id, camera_id, current))
    return visits
