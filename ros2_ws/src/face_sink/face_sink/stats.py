"""Pure aggregation of face events into customers, age buckets and the report's summary (no I/O).

It lives with the event store, below every package that counts customers (the report, the
dashboard, signage, the hourly counts of events_out), so none of them depends on another.

A face ID stands for one (anonymous) customer. Per-frame age and gender estimates are noisy, so a
customer's age is the median of its estimates and its gender the majority of its estimates. A
visit is a run of appearances with no gap longer than ``visit_gap_s`` (``face_sink.visits``, the
one definition the visits table uses too); a customer with more than one visit is a repeat customer.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from face_common.faces import GENDERS, UNKNOWN_FACE_ID, FaceEvent

from face_sink.visits import UNKNOWN_GENDER, majority_gender, visit_spans

GENDER_CLASSES = (*GENDERS, UNKNOWN_GENDER)
# (label, lowest age in whole years); each bucket runs up to the next one's lowest age.
AGE_BUCKETS = (
    ("0-17", 0),
    ("18-24", 18),
    ("25-34", 25),
    ("35-44", 35),
    ("45-54", 45),
    ("55-64", 55),
    ("65+", 65),
)
AGE_BUCKET_LABELS = tuple(label for label, _ in AGE_BUCKETS)
UNKNOWN_AGE = "unknown"


def age_bucket(age: float) -> str:
    """The bucket of an age in completed years (17.9 is still 17); NaN is ``unknown``."""
    if math.isnan(age):
        return UNKNOWN_AGE
    years = math.floor(age)
    label = AGE_BUCKET_LABELS[0]
    for name, lowest in AGE_BUCKETS:
        if years >= lowest:
            label = name
    return label


def count_visits(stamps_ns: Sequence[int], visit_gap_s: float) -> int:
    """Number of visits in appearance times (see :func:`visit_spans`)."""
    return len(visit_spans(stamps_ns, visit_gap_s))


@dataclass(frozen=True)
class TableRow:
    """One line of the seed's Table I."""

    stamp_ns: int
    age: float
    gender: str
    face_id: int


@dataclass(frozen=True)
class CustomerProfile:
    """What the events say about one face ID."""

    face_id: int
    appearances: int
    visits: int
    ages: tuple[float, ...]
    median_age: float
    gender: str

    @property
    def age_bucket(self) -> str:
        return age_bucket(self.median_age)


@dataclass(frozen=True)
class Summary:
    events: int
    unidentified_events: int
    customers: int
    new_customers: int
    repeat_customers: int
    genders: dict[str, int]
    age_buckets: dict[str, int]
    gender_by_age: dict[str, dict[str, int]]
    profiles: tuple[CustomerProfile, ...]

    @property
    def female_share(self) -> float | None:
        """Share of women among customers whose gender is known; None when none is known."""
        known = sum(self.genders[g] for g in GENDERS)
        return self.genders["female"] / known if known else None


def table_rows(events: Iterable[FaceEvent]) -> list[TableRow]:
    """Table I: every identified event in capture order (camera and face index break ties).

    Faces without a face ID (a track still collecting views, a view too poor to identify) are
    no customer's: the summary counts them, the table leaves them out."""
    identified = (e for e in events if e.face_id != UNKNOWN_FACE_ID)
    ordered = sorted(identified, key=lambda e: (e.stamp_ns, e.camera_id, e.face_index))
    return [TableRow(e.stamp_ns, e.age, e.gender, e.face_id) for e in ordered]


def customer_profiles(events: Iterable[FaceEvent], visit_gap_s: float) -> dict[int, CustomerProfile]:
    """One profile per face ID (unidentified faces are no customer), in face ID order."""
    by_face: dict[int, list[FaceEvent]] = defaultdict(list)
    for event in events:
        if event.face_id != UNKNOWN_FACE_ID:
            by_face[event.face_id].append(event)
    profiles = {}
    for face_id in sorted(by_face):
        face_events = sorted(by_face[face_id], key=lambda e: e.stamp_ns)
        ages = tuple(e.age for e in face_events if not math.isnan(e.age))
        profiles[face_id] = CustomerProfile(
            face_id=face_id,
            appearances=len(face_events),
            visits=count_visits([e.stamp_ns for e in face_events], visit_gap_s),
            ages=ages,
            median_age=statistics.median(ages) if ages else math.nan,
            gender=majority_gender(e.gender for e in face_events),
        )
    return profiles


def summarize(events: Sequence[FaceEvent], visit_gap_s: float) -> Summary:
    """Customer counts, new vs repeat, gender and age-bucket tallies (one vote per customer)."""
    profiles = tuple(customer_profiles(events, visit_gap_s).values())
    buckets = [*AGE_BUCKET_LABELS, UNKNOWN_AGE]
    gender_by_age = {b: dict.fromkeys(GENDER_CLASSES, 0) for b in buckets}
    for profile in profiles:
        gender_by_age[profile.age_bucket][profile.gender] += 1
    repeat = sum(1 for p in profiles if p.visits > 1)
    return Summary(
        events=len(events),
        unidentified_events=sum(1 for e in events if e.face_id == UNKNOWN_FACE_ID),
        customers=len(profiles),
        new_customers=len(profiles) - repeat,
        repeat_customers=repeat,
        genders={g: sum(1 for p in profiles if p.gender == g) for g in GENDER_CLASSES},
        age_buckets={b: sum(gender_by_age[b].values()) for b in buckets},
        gender_by_age=gender_by_age,
        profiles=profiles,
    )
