"""Scoring the pipeline's face events on a ``face_scenario`` store day against its ground truth.

The store report is only as good as the face IDs behind it, so this scores what the report would
say. Events (from the event store that ``face_offline`` or the graph's sink writes) are put on
scenario frames by their stamp (frame ``i`` was captured at ``start + i / fps``, as ``face_offline``
stamps it) and matched one-to-one to the ground-truth face boxes at IoU 0.5, as the detection
tests count (``face_common.geometry``). A matched box is a *sighting*: this person carried this
face ID in this frame. Sightings give identity consistency over time; the events of each face ID,
cut into visits by the report's own rule (``face_sink.stats``), give visits, dwell times and
repeat customers, compared with ``visits.csv``.

A day of several cameras is matched camera by camera (an event's ``camera_id`` is the scenario's
camera id; all cameras share one clock). Its dwell is scored per camera stay, its journeys as the
report makes them (``face_analytics.visit_stats.store_visits``): each true store visit against the
store visit of the person's majority face ID that overlaps it most, and the from/to transition
counts of all store visits against the true ones; its heat maps (``face_analytics.heatmap``) by the
share of each camera's mass within the true face boxes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from camera_node.sources import FrameClock, parse_start
from face_analytics.heatmap import accumulate, blurred, mass_within, time_weights
from face_analytics.journeys import Pair, transition_matrix
from face_analytics.visit_stats import StoreVisit, store_visits
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_common.geometry import match_greedy
from face_sink.mysql_store import open_existing_store
from face_sink.stats import summarize
from face_sink.visits import Visit as CameraVisit
from face_sink.visits import visit_spans, visits_from_events

from face_eval.records import read_csv_rows
from face_eval.scenario import (
    ENTRANCE,
    GROUND_TRUTH_FILE,
    SETTINGS_FILE,
    VISITS_FILE,
    ScenarioSettings,
    journeys,
)

Row = dict[str, Any]
Span = tuple[int, int]  # first and last stamp of one predicted visit, ns


@dataclass(frozen=True)
class TruthFace:
    """One ground-truth row: ``person``'s face box in ``frame`` (of ``camera``; "" on a one-camera day,
    whose files name no camera and whose events all count)."""

    frame: int
    person: str
    box: Box
    camera: str = ""


@dataclass(frozen=True)
class TrueVisit:
    """One row of ``visits.csv``: frames ``first_frame..last_frame`` inclusive on ``camera``."""

    person: str
    visit: int
    first_frame: int
    last_frame: int
    camera: str = ""

    def present(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame


@dataclass(frozen=True)
class Sighting:
    """A ground-truth face that an event matched, with the face ID the event carries."""

    frame: int
    person: str
    face_id: int  # UNKNOWN_FACE_ID when the identity stage gave none
    camera: str = ""


@dataclass(frozen=True)
class DetectionMatch:
    """Events matched to the ground truth over the frames the pipeline processed."""

    sightings: list[Sighting]
    faces: int  # ground-truth faces in processed frames
    events: int  # events on processed frames
    off_frame_events: int  # events whose stamp falls on no processed frame: left out

    @property
    def recall(self) -> float:
        return len(self.sightings) / self.faces if self.faces else math.nan

    @property
    def precision(self) -> float:
        return len(self.sightings) / self.events if self.events else math.nan


def match_events(
    events: Iterable[FaceEvent],
    truth: Iterable[TruthFace],
    processed_frames: Iterable[int],
    clock: FrameClock,
    iou_threshold: float = 0.5,
) -> DetectionMatch:
    """Match each processed frame's event boxes to its ground-truth boxes one-to-one (one camera's:
    the caller picks the events, see :func:`on_camera`)."""
    frames = set(processed_frames)
    truth_by_frame: dict[int, list[TruthFace]] = defaultdict(list)
    for face in truth:
        if face.frame in frames:
            truth_by_frame[face.frame].append(face)
    events_by_frame: dict[int, list[FaceEvent]] = defaultdict(list)
    off_frame = 0
    for event in events:
        frame = clock.frame_of(event.stamp_ns)
        if frame in frames:
            events_by_frame[frame].append(event)
        else:
            off_frame += 1
    sightings = []
    for frame in sorted(truth_by_frame.keys() & events_by_frame.keys()):
        faces, found = truth_by_frame[frame], events_by_frame[frame]
        for e, t in match_greedy([event.box for event in found], [face.box for face in faces], iou_threshold):
            sightings.append(Sighting(frame, faces[t].person, found[e].face_id, faces[t].camera))
    sightings.sort(key=lambda s: (s.frame, s.person))
    return DetectionMatch(
        sightings=sightings,
        faces=sum(len(faces) for faces in truth_by_frame.values()),
        events=sum(len(found) for found in events_by_frame.values()),
        off_frame_events=off_frame,
    )


def known_sightings(sightings: Iterable[Sighting]) -> list[Sighting]:
    return [s for s in sightings if s.face_id != UNKNOWN_FACE_ID]


def majority_face_id(sightings: Iterable[Sighting]) -> int:
    """The face ID carried most often (a tie goes to the one seen first); unknown when none."""
    counts = Counter(s.face_id for s in known_sightings(sorted(sightings, key=lambda s: s.frame)))
    return counts.most_common(1)[0][0] if counts else UNKNOWN_FACE_ID


@dataclass(frozen=True)
class PersonIdentity:
    """How steadily one person kept one face ID over the day."""

    person: str
    sightings: int
    face_id: int  # the majority ID
    on_majority: int  # sightings carrying it
    face_ids: int  # distinct IDs the person got (1 is ideal)
    switches: int  # changes of ID between consecutive identified sightings

    @property
    def consistency(self) -> float:
        """Share of the sightings that carry the majority ID (a sighting without ID counts against)."""
        return self.on_majority / self.sightings


def person_identities(sightings: Sequence[Sighting]) -> list[PersonIdentity]:
    """One entry per sighted person, by name."""
    by_person: dict[str, list[Sighting]] = defaultdict(list)
    for sighting in sorted(sightings, key=lambda s: s.frame):
        by_person[sighting.person].append(sighting)
    identities = []
    for person in sorted(by_person):
        seen = by_person[person]
        face_id = majority_face_id(seen)
        known = [s.face_id for s in known_sightings(seen)]
        identities.append(
            PersonIdentity(
                person=person,
                sightings=len(seen),
                face_id=face_id,
                on_majority=sum(s.face_id == face_id for s in known_sightings(seen)),
                face_ids=len(set(known)),
                switches=sum(a != b for a, b in itertools.pairwise(known)),
            )
        )
    return identities


def persons_per_face_id(sightings: Iterable[Sighting]) -> dict[int, int]:
    """How many distinct people each face ID was seen on (more than 1 is a merge)."""
    persons: dict[int, set[str]] = defaultdict(set)
    for sighting in known_sightings(sightings):
        persons[sighting.face_id].add(sighting.person)
    return {face_id: len(found) for face_id, found in sorted(persons.items())}


def spans_by_face_id(events: Iterable[FaceEvent], visit_gap_s: float) -> dict[int, list[Span]]:
    """Each identified face ID's visits, as the store report counts them."""
    stamps: dict[int, list[int]] = defaultdict(list)
    for event in events:
        if event.face_id != UNKNOWN_FACE_ID:
            stamps[event.face_id].append(event.stamp_ns)
    return {face_id: visit_spans(found, visit_gap_s) for face_id, found in stamps.items()}


@dataclass(frozen=True)
class VisitDwell:
    """One true visit's dwell time and the predicted visit that best covers it."""

    person: str
    visit: int
    true_dwell_s: float  # first to last frame of the visit
    face_id: int  # the visit's majority ID
    dwell_s: float  # first to last stamp of that ID's best-overlapping visit; NaN when none
    camera: str = ""

    @property
    def error_s(self) -> float:
        return self.dwell_s - self.true_dwell_s


def visit_dwells(
    visits: Sequence[TrueVisit],
    sightings: Sequence[Sighting],
    spans: dict[int, list[Span]],
    clock: FrameClock,
) -> list[VisitDwell]:
    """Per true visit: the ID its sightings mostly carry, and that ID's visit overlapping it most
    (``spans``: the visits on the true visit's camera).

    The visit's own majority ID is used (not the person's), so a return given a new ID still has
    its dwell measured; whether it was recognised is what the visit counts score.
    """
    dwells = []
    for visit in visits:
        inside = [
            s
            for s in sightings
            if s.person == visit.person and s.camera == visit.camera and visit.present(s.frame)
        ]
        face_id = majority_face_id(inside)
        best, best_overlap = None, -1
        for first, last in spans.get(face_id, []):
            first_frame, last_frame = clock.frame_of(first), clock.frame_of(last)
            overlap = min(visit.last_frame, last_frame) - max(visit.first_frame, first_frame)
            if overlap > best_overlap:
                best, best_overlap = (first, last), overlap
        dwells.append(
            VisitDwell(
                person=visit.person,
                visit=visit.visit,
                true_dwell_s=(visit.last_frame - visit.first_frame) / clock.fps,
                face_id=face_id,
                dwell_s=math.nan if best is None else (best[1] - best[0]) / 1e9,
                camera=visit.camera,
            )
        )
    return dwells


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def on_camera(events: Iterable[FaceEvent], camera: str) -> list[FaceEvent]:
    """The events of scenario camera ``camera``; "" (a one-camera day) takes them all."""
    return [e for e in events if not camera or e.camera_id == camera]


def match_cameras(
    events: Sequence[FaceEvent],
    truth: Sequence[TruthFace],
    cameras: Sequence[str],
    processed_frames: Iterable[int],
    clock: FrameClock,
    iou_threshold: float = 0.5,
) -> DetectionMatch:
    """:func:`match_events` on each camera, added up."""
    frames = list(processed_frames)
    matches = [
        match_events(on_camera(events, c), [t for t in truth if t.camera == c], frames, clock, iou_threshold)
        for c in cameras
    ]
    return DetectionMatch(
        sightings=sorted(
            (s for m in matches for s in m.sightings), key=lambda s: (s.frame, s.camera, s.person)
        ),
        faces=sum(m.faces for m in matches),
        events=sum(m.events for m in matches),
        off_frame_events=sum(m.off_frame_events for m in matches),
    )


def true_trips(visits: Iterable[TrueVisit], clock: FrameClock) -> dict[tuple[str, int], StoreVisit]:
    """Each true store visit (by person and visit number) as the report would make it from events
    on every frame: its camera stays, in order, are the stops."""
    trips = {}
    for key, stays in journeys(visits).items():
        stops = tuple(
            CameraVisit(
                face_id=UNKNOWN_FACE_ID,
                camera_id=stay.camera,
                start_ns=clock.stamp_of(stay.first_frame),
                end_ns=clock.stamp_of(stay.last_frame),
                age=math.nan,
                gender="",
                sightings=stay.last_frame - stay.first_frame + 1,
            )
            for stay in stays
        )
        trips[key] = StoreVisit(UNKNOWN_FACE_ID, stops[0].start_ns, max(s.end_ns for s in stops), stops)
    return trips


@dataclass(frozen=True)
class JourneyMatch:
    """One true store visit and the predicted store visit taken for it (None when there is none)."""

    person: str
    visit: int
    face_id: int  # the person's majority ID
    truth: StoreVisit
    predicted: StoreVisit | None

    @property
    def right(self) -> bool:
        return self.predicted is not None and self.predicted.cameras == self.truth.cameras


def overlap_ns(a: StoreVisit, b: StoreVisit) -> int:
    """How long two store visits overlap (negative: how far apart they are)."""
    return min(a.end_ns, b.end_ns) - max(a.start_ns, b.start_ns)


def match_journeys(
    truth: dict[tuple[str, int], StoreVisit], trips: Sequence[StoreVisit], face_ids: dict[str, int]
) -> list[JourneyMatch]:
    """Per true store visit: the store visit of the person's majority ID (``face_ids``) that overlaps
    it most in time. The person's ID, not the visit's, is used: the journey counts as right only if
    the report puts it on that customer."""
    matches = []
    for (person, visit), true_trip in truth.items():
        face_id = face_ids.get(person, UNKNOWN_FACE_ID)
        overlaps = [(overlap_ns(t, true_trip), t) for t in trips if t.face_id == face_id]
        best = max((o for o in overlaps if o[0] >= 0), key=lambda o: o[0], default=None)
        matches.append(JourneyMatch(person, visit, face_id, true_trip, best[1] if best else None))
    return matches


def transition_counts(trips: Sequence[StoreVisit]) -> Counter[Pair]:
    """The report's from/to transition matrix as counts of the pairs that occur."""
    matrix = transition_matrix(trips)
    return Counter(
        {
            (before, after): count
            for before, row in zip(matrix.cameras, matrix.counts, strict=True)
            for after, count in zip(matrix.cameras, row, strict=True)
            if count
        }
    )


def heat_mass(events: Sequence[FaceEvent], true_boxes: Iterable[Box], frame_size: tuple[int, int]) -> float:
    """Share of one camera's heat map, made as ``face_heatmap`` makes it, within the true face boxes."""
    grid = accumulate([e.box for e in events], time_weights(events), *frame_size)
    return mass_within(blurred(grid), list(set(true_boxes)))


def _seconds(values: Iterable[float]) -> str:
    return ";".join(f"{v:.2f}" for v in values)


def journey_tables(
    events: Sequence[FaceEvent],
    truth: Sequence[TruthFace],
    visits: Sequence[TrueVisit],
    face_ids: dict[str, int],
    clock: FrameClock,
    visit_gap_s: float,
    frame_size: tuple[int, int],
) -> tuple[dict[str, Any], dict[str, list[Row]]]:
    """A day of several cameras: its scores and tables ``journeys``, ``transitions`` and ``heat``."""
    trips = store_visits(visits_from_events(events, visit_gap_s), visit_gap_s)
    truth_trips = true_trips(visits, clock)
    matches = match_journeys(truth_trips, trips, face_ids)
    true_moves, moves = transition_counts(list(truth_trips.values())), transition_counts(trips)
    cameras = sorted({v.camera for v in visits})
    heat = [
        {
            "camera": camera,
            "events": len(on_camera(events, camera)),
            "mass_in_truth": heat_mass(
                on_camera(events, camera), (t.box for t in truth if t.camera == camera), frame_size
            ),
        }
        for camera in cameras
    ]
    walks = [
        abs(p - t)
        for m in matches
        if m.right and m.predicted
        for p, t in zip(m.predicted.transit_s, m.truth.transit_s, strict=True)
    ]
    scores = {
        "journeys_right": _rate(sum(m.right for m in matches), len(matches)),
        "transit_MAE_s": _mean(walks),
        "transitions_off": sum(
            abs(true_moves[pair] - moves[pair]) for pair in true_moves.keys() | moves.keys()
        ),
        "heat_mass_min": min((row["mass_in_truth"] for row in heat), default=math.nan),
    }
    tables = {
        "journeys": [
            {
                "person": m.person,
                "visit": m.visit,
                "face_id": m.face_id,
                "cameras": ">".join(m.truth.cameras),
                "pred_cameras": ">".join(m.predicted.cameras) if m.predicted else "",
                "right": m.right,
                "transit_s": _seconds(m.truth.transit_s),
                "pred_transit_s": _seconds(m.predicted.transit_s) if m.predicted else "",
            }
            for m in matches
        ],
        "transitions": [
            {
                "from": before,
                "to": after,
                "truth": true_moves[before, after],
                "predicted": moves[before, after],
            }
            for before, after in sorted(true_moves.keys() | moves.keys())
        ],
        "heat": heat,
    }
    return scores, tables


def score_scenario(
    events: Sequence[FaceEvent],
    truth: Sequence[TruthFace],
    visits: Sequence[TrueVisit],
    processed_frames: Iterable[int],
    clock: FrameClock,
    visit_gap_s: float,
    iou_threshold: float = 0.5,
    frame_size: tuple[int, int] = (ScenarioSettings.width, ScenarioSettings.height),
) -> dict[str, list[Row]]:
    """Tables ``counts`` (truth vs predicted), ``scores`` (one row), ``persons`` and ``visits``; a
    day of several cameras adds ``journeys``, ``transitions`` and ``heat`` (:func:`journey_tables`)."""
    cameras = sorted({t.camera for t in truth} | {v.camera for v in visits})
    several = cameras != [""]
    match = match_cameras(events, truth, cameras, processed_frames, clock, iou_threshold)
    identities = {p.person: p for p in person_identities(match.sightings)}
    merges = persons_per_face_id(match.sightings)
    spans = spans_by_face_id(events, visit_gap_s)
    camera_spans = {camera: spans_by_face_id(on_camera(events, camera), visit_gap_s) for camera in cameras}
    dwell_of: dict[TrueVisit, VisitDwell] = {}
    for camera in cameras:
        stays = [v for v in visits if v.camera == camera]
        dwell_of.update(
            zip(stays, visit_dwells(stays, match.sightings, camera_spans[camera], clock), strict=True)
        )
    dwells = [dwell_of[v] for v in visits]
    report = summarize(events, visit_gap_s)
    trip_stays = journeys(visits)
    true_visits = Counter(person for person, _ in trip_stays)
    persons = sorted(true_visits)

    person_rows = []
    for person in persons:
        identity = identities.get(person)
        face_id = identity.face_id if identity else UNKNOWN_FACE_ID
        person_rows.append(
            {
                "person": person,
                "visits": true_visits[person],
                "pred_visits": len(spans.get(face_id, [])),
                "sightings": identity.sightings if identity else 0,
                "face_id": face_id,
                "consistency": identity.consistency if identity else math.nan,
                "face_ids": identity.face_ids if identity else 0,
                "switches": identity.switches if identity else 0,
                "persons_on_id": merges.get(face_id, 0),
            }
        )
    sighted = [identities[p] for p in persons if p in identities]
    measured = [d for d in dwells if not math.isnan(d.dwell_s)]
    predicted_dwells = [
        (last - first) / 1e9
        for by_id in camera_spans.values()
        for found in by_id.values()
        for first, last in found
    ]
    true_repeat = sum(n > 1 for n in true_visits.values())
    counts = [
        ("customers", len(persons), report.customers),
        ("visits", len(trip_stays), sum(p.visits for p in report.profiles)),
        ("repeat_customers", true_repeat, report.repeat_customers),
        ("repeat_rate", _rate(true_repeat, len(persons)), _rate(report.repeat_customers, report.customers)),
        ("mean_dwell_s", _mean([d.true_dwell_s for d in dwells]), _mean(predicted_dwells)),
    ]
    if several:
        counts.append(("camera_visits", len(visits), len(predicted_dwells)))
    scores = {
        "faces": match.faces,
        "recall": match.recall,
        "precision": match.precision,
        "consistency": _rate(sum(p.on_majority for p in sighted), len(match.sightings)),
        "ids_per_person": _mean([p.face_ids for p in sighted]),
        "max_ids": max((p.face_ids for p in sighted), default=0),
        "merged_ids": sum(n > 1 for n in merges.values()),
        "id_switches": sum(p.switches for p in sighted),
        "visits_right": _rate(sum(r["pred_visits"] == r["visits"] for r in person_rows), len(persons)),
        "dwell_MAE_s": _mean([abs(d.error_s) for d in measured]),
        "dwell_bias_s": _mean([d.error_s for d in measured]),
        "missed_visits": len(dwells) - len(measured),
    }
    tables = {
        "counts": [{"quantity": name, "truth": t, "predicted": p} for name, t, p in counts],
        "scores": [scores],
        "persons": person_rows,
        "visits": [
            {
                "person": d.person,
                "visit": d.visit,
                **({"camera": d.camera} if several else {}),
                "face_id": d.face_id,
                "true_dwell_s": d.true_dwell_s,
                "dwell_s": d.dwell_s,
                "error_s": d.error_s,
            }
            for d in dwells
        ],
    }
    if several:
        face_ids = {p.person: p.face_id for p in sighted}
        more_scores, more_tables = journey_tables(
            events, truth, visits, face_ids, clock, visit_gap_s, frame_size
        )
        scores.update(more_scores)
        tables.update(more_tables)
    return tables


def read_truth(scenario: Path) -> tuple[list[TruthFace], list[TrueVisit]]:
    """``ground_truth.csv`` and ``visits.csv``; a one-camera day's have no camera column ("")."""
    truth = [
        TruthFace(
            int(row["frame"]), row["person"], Box(*(int(row[c]) for c in "xywh")), row.get("camera", "")
        )
        for row in read_csv_rows(scenario / GROUND_TRUTH_FILE, ("frame", "person", "x", "y", "w", "h"))
    ]
    visits = [
        TrueVisit(
            row["person"],
            int(row["visit"]),
            int(row["first_frame"]),
            int(row["last_frame"]),
            row.get("camera", ""),
        )
        for row in read_csv_rows(scenario / VISITS_FILE, ("person", "visit", "first_frame", "last_frame"))
    ]
    return truth, visits


def read_settings(scenario: Path) -> ScenarioSettings:
    stored = json.loads((scenario / SETTINGS_FILE).read_text())
    return ScenarioSettings(**{f.name: stored[f.name] for f in fields(ScenarioSettings) if f.name in stored})


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", type=Path, required=True, help="face_scenario output folder")
    parser.add_argument("--database", type=Path, required=True, help="SQLite event store of the run")
    parser.add_argument(
        "--start",
        help="capture time of frame 0 as given to face_offline (default: the video's mtime, as there)",
    )
    parser.add_argument("--every", type=int, default=1, help="face_offline's --every: frames 0, N, 2N, ...")
    parser.add_argument("--camera-id", help="only this camera's events (default: all)")
    parser.add_argument(
        "--visit-gap-s",
        type=float,
        help="the report's visit gap (default: halfway between the scenario's longest walk between "
        "cameras, none with one camera, and its least return gap)",
    )
    parser.add_argument("--iou", type=float, default=0.5, help="IoU of a match")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the tables")


def score_day(
    events: Sequence[FaceEvent],
    scenario: Path,
    start_ns: int,
    visit_gap_s: float | None = None,
    every: int = 1,
    iou_threshold: float = 0.5,
) -> dict[str, list[Row]]:
    """Score ``events`` against the ``face_scenario`` folder ``scenario`` whose frame 0 (on every
    camera) was captured at ``start_ns``: the tables ``face_metrics scenario`` prints.

    The visit gap defaults to halfway between the longest walk between cameras (none on a
    one-camera day) and the least return gap, so walks join a journey and returns stay apart.
    """
    if every < 1:
        raise ValueError("--every must be >= 1")
    settings = read_settings(scenario)
    truth, visits = read_truth(scenario)
    gap = (settings.longest_walk_s + settings.return_gap_s) / 2 if visit_gap_s is None else visit_gap_s
    tables = score_scenario(
        events,
        truth,
        visits,
        range(0, settings.frames, every),
        FrameClock(start_ns, settings.fps),
        gap,
        iou_threshold,
        (settings.width, settings.height),
    )
    tables["scores"][0] = {"visit_gap_s": gap, **tables["scores"][0]}
    return tables


def scenario_tables(args: argparse.Namespace) -> dict[str, list[Row]]:
    """Read the event store named by ``args`` and score it against the scenario."""
    store = open_existing_store(args.database)
    try:
        events = store.read_events(camera_id=args.camera_id)
    finally:
        store.close()
    settings = read_settings(args.scenario)
    start_ns = parse_start(args.start, args.scenario / settings.video_file(ENTRANCE))
    return score_day(events, args.scenario, start_ns, args.visit_gap_s, args.every, args.iou)
