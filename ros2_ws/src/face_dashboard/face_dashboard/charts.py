"""The numbers behind every chart, as JSON-ready models, computed by ``face_report``'s own functions.

A period (``start``/``end``, ISO 8601, no zone = UTC) and an optional camera select the data exactly
as ``face_report --start --end --camera-id`` does: events by stamp, visits by their start, store
visits merged from all of the camera's visits and then kept by start. The summary, repeat customers,
dwell, journeys and heat maps then come from ``face_sink.stats``, ``visit_stats``,
``journeys`` and ``heatmap``, so the page and the printed report cannot disagree. Only "visits per
hour" and "customers now" are the dashboard's own views, and they count the same store visits and
the same ``summarize``. NaN (an age never estimated) becomes null: JSON has no NaN.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
from face_analytics.heatmap import background_image, camera_heat, render
from face_analytics.journeys import (
    in_period,
    journey_counts,
    transition_matrix,
    transition_rows,
    transition_seconds,
)
from face_analytics.report import HEAT_HEIGHT, HEAT_WIDTH
from face_analytics.visit_stats import (
    StoreVisit,
    dwell_by,
    dwell_rows,
    iso_week,
    repeat_customers,
    store_visits,
    utc_day,
    visit_bucket,
)
from face_common.faces import FaceEvent
from face_sink.schema import EventStore
from face_sink.stats import CustomerProfile, Summary, customer_profiles, summarize
from face_sink.visits import Visit
from pydantic import BaseModel


def finite(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class Period:
    """What a chart request selects: ``[since, until)`` in UTC nanoseconds (None: open) and a camera."""

    since_ns: int | None
    until_ns: int | None
    camera_id: str | None


@dataclass(frozen=True)
class PeriodData:
    """One read of the store for a period, as ``face_report`` reads it."""

    events: list[FaceEvent]
    visits: list[Visit]  # camera visits starting in the period
    trips: list[StoreVisit]  # store visits starting in the period


def read_period(store: EventStore, period: Period) -> PeriodData:
    """Events, camera visits and store visits of the period (``face_report.main``'s selection)."""
    events = store.read_events(camera_id=period.camera_id, since_ns=period.since_ns, until_ns=period.until_ns)
    camera_visits = [v for v in store.read_visits() if period.camera_id in (None, v.camera_id)]
    return PeriodData(
        events=events,
        visits=in_period(camera_visits, period.since_ns, period.until_ns),
        trips=in_period(store_visits(camera_visits, store.visit_gap_s), period.since_ns, period.until_ns),
    )


class SummaryOut(BaseModel):
    """face_report's summary of the period, plus customers now and today (UTC) for the tiles."""

    events: int
    unidentified_events: int
    customers: int
    new_customers: int
    repeat_customers: int
    female_share: float | None
    genders: dict[str, int]
    age_buckets: dict[str, int]
    gender_by_age: dict[str, dict[str, int]]
    customers_now: int
    now_window_s: float
    customers_today: int


def summary_out(
    summary: Summary, customers_now: int, now_window_s: float, customers_today: int
) -> SummaryOut:
    return SummaryOut(
        events=summary.events,
        unidentified_events=summary.unidentified_events,
        customers=summary.customers,
        new_customers=summary.new_customers,
        repeat_customers=summary.repeat_customers,
        female_share=summary.female_share,
        genders=summary.genders,
        age_buckets=summary.age_buckets,
        gender_by_age=summary.gender_by_age,
        customers_now=customers_now,
        now_window_s=now_window_s,
        customers_today=customers_today,
    )


def period_summary(store: EventStore, period: Period, now_ns: int, now_window_s: float) -> SummaryOut:
    """The period's summary; 'now' and 'today' are counted by the same ``summarize`` over the last
    ``now_window_s`` and the current UTC day, for the chosen camera."""
    events = store.read_events(camera_id=period.camera_id, since_ns=period.since_ns, until_ns=period.until_ns)
    midnight = datetime.fromtimestamp(now_ns // 10**9, UTC).replace(hour=0, minute=0, second=0)
    day_start = int(midnight.timestamp()) * 10**9
    today = store.read_events(camera_id=period.camera_id, since_ns=day_start)
    recent_ns = now_ns - round(now_window_s * 1e9)
    gap = store.visit_gap_s
    return summary_out(
        summarize(events, gap),
        summarize([e for e in today if e.stamp_ns >= recent_ns], gap).customers,
        now_window_s,
        summarize(today, gap).customers,
    )


def cameras(store: EventStore) -> list[str]:
    """Cameras that saw an identified face (every such face has a visit; the visits table is small)."""
    return sorted({v.camera_id for v in store.read_visits()})


class ProfileOut(BaseModel):
    """One face ID: every age estimate and its median (the seed's age-by-face plot), gender, visits."""

    face_id: int
    appearances: int
    visits: int
    median_age: float | None
    ages: list[float]
    gender: str
    age_bucket: str


def profile_out(profile: CustomerProfile) -> ProfileOut:
    return ProfileOut(
        face_id=profile.face_id,
        appearances=profile.appearances,
        visits=profile.visits,
        median_age=finite(profile.median_age),
        ages=list(profile.ages),
        gender=profile.gender,
        age_bucket=profile.age_bucket,
    )


def age_by_face(data: PeriodData, visit_gap_s: float) -> list[ProfileOut]:
    return [profile_out(p) for p in summarize(data.events, visit_gap_s).profiles]


class RepeatOut(BaseModel):
    """Repeat customers per UTC day or ISO week: new (first visit ever) vs returning."""

    period: str
    customers: int
    new: int
    returning: int
    visits: int
    visits_per_customer: float
    median_days_since_last: float | None


def repeat_out(data: PeriodData, by: str) -> list[RepeatOut]:
    rows = repeat_customers(data.trips, utc_day if by == "day" else iso_week)
    return [
        RepeatOut(
            period=r.period,
            customers=r.customers,
            new=r.new,
            returning=r.returning,
            visits=r.visits,
            visits_per_customer=r.visits_per_customer,
            median_days_since_last=r.median_days_since_last,
        )
        for r in rows
    ]


class HourOut(BaseModel):
    """Store visits that began in one UTC hour (``YYYY-MM-DDTHH:00Z``)."""

    hour: str
    visits: int


def visits_per_hour(data: PeriodData) -> list[HourOut]:
    """Store visits by the UTC hour they began in, hours without visits left out."""
    hours = Counter(
        datetime.fromtimestamp(t.start_ns // 10**9, UTC).strftime("%Y-%m-%dT%H:00Z") for t in data.trips
    )
    return [HourOut(hour=hour, visits=count) for hour, count in sorted(hours.items())]


class DwellGroupOut(BaseModel):
    """Dwell seconds of one camera or age/gender bucket: every visit's, and face_report's count/median/p90."""

    group: str
    count: int
    median_s: float
    p90_s: float
    dwell_s: list[float]


class DwellOut(BaseModel):
    by_camera: list[DwellGroupOut]
    by_bucket: list[DwellGroupOut]


def dwell_out(data: PeriodData) -> DwellOut:
    def groups(grouped: dict[str, list[float]]) -> list[DwellGroupOut]:
        return [
            DwellGroupOut(
                group=r.group, count=r.count, median_s=r.median_s, p90_s=r.p90_s, dwell_s=grouped[r.group]
            )
            for r in dwell_rows(grouped)
        ]

    return DwellOut(
        by_camera=groups(dwell_by(data.visits, lambda v: v.camera_id)),
        by_bucket=groups(dwell_by(data.visits, visit_bucket)),
    )


class JourneyOut(BaseModel):
    cameras: list[str]
    visits: int


class TransitionOut(BaseModel):
    from_camera: str
    to_camera: str
    count: int
    median_s: float
    p90_s: float


class JourneysOut(BaseModel):
    """Most common journeys, the from (row) / to (column) transition matrix and transit times."""

    journeys: list[JourneyOut]
    cameras: list[str]
    matrix: list[list[int]]
    transitions: list[TransitionOut]


def journeys_out(data: PeriodData) -> JourneysOut:
    matrix = transition_matrix(data.trips)
    return JourneysOut(
        journeys=[JourneyOut(cameras=list(path), visits=count) for path, count in journey_counts(data.trips)],
        cameras=list(matrix.cameras),
        matrix=[list(row) for row in matrix.counts],
        transitions=[
            TransitionOut(
                from_camera=r.from_camera,
                to_camera=r.to_camera,
                count=r.count,
                median_s=r.median_s,
                p90_s=r.p90_s,
            )
            for r in transition_rows(transition_seconds(data.trips))
        ],
    )


class HeatOut(BaseModel):
    """One camera's heat map numbers (the PNG is at ``/api/heatmap/{camera}.png``)."""

    camera_id: str
    events: int
    face_seconds: float
    width: int
    height: int


def heat_png(store: EventStore, camera_id: str, period: Period) -> tuple[bytes, HeatOut]:
    """face_report's heat map of one camera (grey canvas, same weighting and drawing) and its numbers."""
    heat, count, seconds = camera_heat(
        store, camera_id, HEAT_WIDTH, HEAT_HEIGHT, period.since_ns, period.until_ns
    )
    _, png = cv2.imencode(".png", render(heat, background_image(None, HEAT_WIDTH, HEAT_HEIGHT)))
    return png.tobytes(), HeatOut(
        camera_id=camera_id, events=count, face_seconds=seconds, width=HEAT_WIDTH, height=HEAT_HEIGHT
    )


class VisitOut(BaseModel):
    camera_id: str
    start: str
    end: str
    dwell_s: float
    age: float | None
    gender: str
    sightings: int


class FaceOut(BaseModel):
    """Everything the store holds on one face ID (admin only)."""

    profile: ProfileOut | None
    visits: list[VisitOut]


def face_out(store: EventStore, face_id: int) -> FaceOut:
    """One face ID's profile over all its events and every visit; the store has no per-face read, so
    this reads all events (an admin page, opened rarely)."""
    events = [e for e in store.read_events() if e.face_id == face_id]
    profile = customer_profiles(events, store.visit_gap_s).get(face_id)

    def iso(stamp_ns: int) -> str:
        return datetime.fromtimestamp(stamp_ns / 1e9, UTC).isoformat(timespec="seconds")

    return FaceOut(
        profile=None if profile is None else profile_out(profile),
        visits=[
            VisitOut(
                camera_id=v.camera_id,
                start=iso(v.start_ns),
                end=iso(v.end_ns),
                dwell_s=v.dwell_s,
                age=finite(v.age),
                gender=v.gender,
                sightings=v.sightings,
            )
            for v in store.read_visits()
            if v.face_id == face_id
        ],
    )
