"""Scoring a store day's events against its ground truth: hand-made cases (one camera, and journeys
over three), the CLI, and the real pipeline (face_scenario -> face_offline -> face_metrics
scenario) on a tiny day."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from camera_node.sources import FrameClock
from face_analytics import offline
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_eval import scenario
from face_eval.scenario_scoring import (
    Sighting,
    TrueVisit,
    TruthFace,
    match_events,
    person_identities,
    persons_per_face_id,
    read_truth,
    score_day,
    score_scenario,
    spans_by_face_id,
    visit_dwells,
)
from face_eval.scoring import main as face_metrics
from face_sink.schema import open_sqlite_store

START_NS = 1_700_000_000 * 10**9
CLOCK = FrameClock(START_NS, 12.0)
S = 10**9  # one second in ns
ANN_BOX, BOB_BOX = Box(100, 100, 80, 100), Box(600, 300, 90, 110)


def stamp(frame: int) -> int:
    return START_NS + round(frame * 1e9 / 12.0)


def event(frame: int, box: Box, face_id: int, index: int = 0) -> FaceEvent:
    return FaceEvent("cam", stamp(frame), index, face_id, 30.0, "female", box, 0.3, False)


@pytest.mark.parametrize(
    ("predicted", "matched"),
    [
        (ANN_BOX, True),  # exact
        (Box(100, 100, 80, 200), True),  # IoU exactly 0.5 is a match
        (Box(140, 100, 80, 100), False),  # half a width off: IoU 1/3
        (Box(0, 0, 10, 10), False),  # elsewhere
    ],
)
def test_an_event_is_a_sighting_only_at_iou_half_or_more(predicted: Box, matched: bool) -> None:
    match = match_events([event(0, predicted, 7)], [TruthFace(0, "ann", ANN_BOX)], [0], CLOCK)
    assert match.sightings == ([Sighting(0, "ann", 7)] if matched else [])
    assert (match.faces, match.events) == (1, 1)


def test_matching_counts_only_processed_frames() -> None:
    truth = [TruthFace(f, "ann", ANN_BOX) for f in range(7)] + [TruthFace(3, "bob", BOB_BOX)]
    events = [
        event(0, ANN_BOX, 1),
        event(3, BOB_BOX, 2),  # matched to bob, not to ann
        event(3, Box(900, 0, 50, 50), 3, index=1),  # a false alarm
        event(4, ANN_BOX, 1),  # frame 4 was not processed (every 3): left out
    ]
    match = match_events(events, truth, range(0, 7, 3), CLOCK)
    assert match.sightings == [Sighting(0, "ann", 1), Sighting(3, "bob", 2)]
    assert (match.faces, match.events, match.off_frame_events) == (4, 3, 1)  # ann in 0, 3, 6; bob in 3
    assert (match.recall, match.precision) == (0.5, pytest.approx(2 / 3))


def test_no_events_give_zero_recall_and_undefined_precision() -> None:
    match = match_events([], [TruthFace(0, "ann", ANN_BOX)], [0], CLOCK)
    assert match.recall == 0.0 and math.isnan(match.precision)


@pytest.mark.parametrize(
    ("face_ids", "majority", "consistency", "distinct", "switches"),
    [
        ([4, 4, 4], 4, 1.0, 1, 0),
        ([4, 5, 4, 4], 4, 0.75, 2, 2),
        ([5, 5, 4, 4], 5, 0.5, 2, 1),  # a tie goes to the ID seen first
        ([UNKNOWN_FACE_ID, 4, 4], 4, 2 / 3, 1, 0),  # a sighting without ID counts against
        ([UNKNOWN_FACE_ID, UNKNOWN_FACE_ID], UNKNOWN_FACE_ID, 0.0, 0, 0),
    ],
)
def test_identity_over_time(
    face_ids: list[int], majority: int, consistency: float, distinct: int, switches: int
) -> None:
    sightings = [Sighting(frame, "ann", face_id) for frame, face_id in enumerate(face_ids)]
    (ann,) = person_identities(list(reversed(sightings)))  # frame order, not input order, counts
    assert (ann.person, ann.sightings, ann.face_id) == ("ann", len(face_ids), majority)
    assert ann.consistency == pytest.approx(consistency)
    assert (ann.face_ids, ann.switches) == (distinct, switches)


def test_persons_per_face_id_shows_merges() -> None:
    sightings = [Sighting(0, "ann", 1), Sighting(1, "bob", 1), Sighting(2, "bob", 2), Sighting(3, "cy", -1)]
    assert persons_per_face_id(sightings) == {1: 2, 2: 1}


def test_dwell_uses_each_visits_own_id_and_marks_an_unseen_visit() -> None:
    visits = [TrueVisit("ann", 1, 0, 24), TrueVisit("ann", 2, 120, 144), TrueVisit("bob", 1, 0, 12)]
    # The return got a new ID (2); the pipeline saw ann's first visit from frame 6 only.
    events = [event(f, ANN_BOX, 1) for f in range(6, 25, 3)] + [
        event(f, ANN_BOX, 2) for f in range(120, 145, 3)
    ]
    sightings = [Sighting(CLOCK.frame_of(e.stamp_ns), "ann", e.face_id) for e in events]
    dwells = visit_dwells(visits, sightings, spans_by_face_id(events, 5.0), CLOCK)
    assert [(d.person, d.visit, d.face_id) for d in dwells] == [("ann", 1, 1), ("ann", 2, 2), ("bob", 1, -1)]
    assert [d.true_dwell_s for d in dwells] == [2.0, 2.0, 1.0]
    assert dwells[0].dwell_s == pytest.approx(1.5) and dwells[0].error_s == pytest.approx(-0.5)
    assert dwells[1].dwell_s == pytest.approx(2.0)
    assert math.isnan(dwells[2].dwell_s)


# A day: ann comes at frames 0..23 and again at 96..119 (an 8 s gap), bob stays 0..35.
DAY_VISITS = [TrueVisit("ann", 1, 0, 23), TrueVisit("ann", 2, 96, 119), TrueVisit("bob", 1, 0, 35)]
DAY_TRUTH = [
    TruthFace(frame, v.person, ANN_BOX if v.person == "ann" else BOB_BOX)
    for v in DAY_VISITS
    for frame in range(v.first_frame, v.last_frame + 1)
]


def day_events(ann_return_id: int) -> list[FaceEvent]:
    """Every processed frame detected; ann's return carries ``ann_return_id``."""
    events = []
    for face in DAY_TRUTH:
        if face.frame % 3 == 0:
            face_id = 2 if face.person == "bob" else (1 if face.frame < 96 else ann_return_id)
            events.append(event(face.frame, face.box, face_id, index=int(face.person == "bob")))
    return events


def day_scores(ann_return_id: int, visit_gap_s: float) -> dict:
    return score_scenario(
        day_events(ann_return_id), DAY_TRUTH, DAY_VISITS, range(0, 120, 3), CLOCK, visit_gap_s
    )


def test_a_perfect_day_scores_perfectly() -> None:
    tables = day_scores(ann_return_id=1, visit_gap_s=4.0)
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    assert counts == {
        "customers": (2, 2),
        "visits": (3, 3),
        "repeat_customers": (1, 1),
        "repeat_rate": (0.5, 0.5),
        "mean_dwell_s": (
            pytest.approx(23 / 12 * 2 / 3 + 35 / 12 / 3),
            pytest.approx(21 / 12 * 2 / 3 + 33 / 12 / 3),
        ),
    }
    (scores,) = tables["scores"]
    assert scores | {"dwell_MAE_s": 0, "dwell_bias_s": 0} == {
        "faces": 28, "recall": 1.0, "precision": 1.0, "consistency": 1.0, "ids_per_person": 1.0,
        "max_ids": 1, "merged_ids": 0, "id_switches": 0, "visits_right": 1.0,
        "dwell_MAE_s": 0, "dwell_bias_s": 0, "missed_visits": 0,
    }  # fmt: skip
    # Every 3rd frame is seen: each dwell ends up to 2 frames early, never late.
    assert scores["dwell_MAE_s"] == pytest.approx(2 / 12) and scores["dwell_bias_s"] == pytest.approx(-2 / 12)
    assert [(r["person"], r["visits"], r["pred_visits"], r["face_id"]) for r in tables["persons"]] == [
        ("ann", 2, 2, 1),
        ("bob", 1, 1, 2),
    ]


def test_a_return_under_a_new_id_is_a_split_not_a_repeat() -> None:
    tables = day_scores(ann_return_id=3, visit_gap_s=4.0)
    counts = {row["quantity"]: row["predicted"] for row in tables["counts"]}
    assert (counts["customers"], counts["visits"], counts["repeat_customers"]) == (3, 3, 0)
    (scores,) = tables["scores"]
    assert (scores["consistency"], scores["max_ids"], scores["id_switches"]) == (pytest.approx(20 / 28), 2, 1)
    assert scores["visits_right"] == 0.5 and scores["missed_visits"] == 0
    ann = tables["persons"][0]
    assert (ann["face_id"], ann["face_ids"], ann["pred_visits"]) == (1, 2, 1)


def test_a_visit_gap_longer_than_the_absence_merges_the_visits() -> None:
    tables = day_scores(ann_return_id=1, visit_gap_s=10.0)
    counts = {row["quantity"]: row["predicted"] for row in tables["counts"]}
    assert (counts["visits"], counts["repeat_customers"]) == (2, 0)
    ann_visits = [row for row in tables["visits"] if row["person"] == "ann"]
    assert [row["dwell_s"] for row in ann_visits] == [pytest.approx(117 / 12)] * 2  # one long stay


def write_day(folder: Path, every: int) -> Path:
    """A hand-made scenario folder and its event store, as face_scenario and face_offline write them."""
    folder.mkdir()
    settings = scenario.ScenarioSettings(duration_s=10, people=2, return_gap_s=6)
    (folder / scenario.SETTINGS_FILE).write_text(json.dumps({"seed": 0, **asdict(settings)}))
    lines = ["frame,person,x,y,w,h"]
    lines += [f"{t.frame},{t.person},{','.join(map(str, t.box.as_list()))}" for t in DAY_TRUTH]
    (folder / scenario.GROUND_TRUTH_FILE).write_text("\n".join(lines) + "\n")
    lines = ["person,visit,first_frame,last_frame,photo"]
    lines += [f"{v.person},{v.visit},{v.first_frame},{v.last_frame},x.jpg" for v in DAY_VISITS]
    (folder / scenario.VISITS_FILE).write_text("\n".join(lines) + "\n")
    store = open_sqlite_store(folder / "events.sqlite")
    store.write_events(e for e in day_events(ann_return_id=1) if CLOCK.frame_of(e.stamp_ns) % every == 0)
    store.close()
    return folder


def test_cli_scores_a_day_from_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = write_day(tmp_path / "day", every=6)
    args = ["scenario", "--scenario", str(day), "--database", str(day / "events.sqlite"), "--every", "6"]
    args += ["--start", "2023-11-14T22:13:20"]  # START_NS
    assert face_metrics([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "scenario" and set(out) == {"task", "counts", "scores", "persons", "visits"}
    (scores,) = out["scores"]
    assert scores["visit_gap_s"] == 3.0  # half the scenario's return gap
    assert (scores["faces"], scores["recall"], scores["consistency"]) == (14, 1.0, 1.0)
    assert face_metrics(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("counts:\nquantity") and "\n\npersons:\nperson " in printed


def test_cli_refuses_a_missing_database_without_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = write_day(tmp_path / "day", every=1)
    missing = tmp_path / "none.sqlite"
    assert face_metrics(["scenario", "--scenario", str(day), "--database", str(missing)]) == 2
    assert "no event database" in capsys.readouterr().err and not missing.exists()


# The real pipeline on a tiny day: 3 people, one comes back after at least 4 s. Seed 0 plans
# exactly one return from ../shared/data/identity and from samples/identity alike.
TINY_DAY = ["--seed", "0", "--duration", "16", "--people", "3", "--repeat-rate", "0.5", "--dwell", "3", "4"]
TINY_DAY += ["--return-gap", "4", "--face-size", "100", "150", "--no-progress"]
TINY_START = "2024-05-01T10:00:00"
# A new track carries no ID until its 3rd detection (frames 0, 3 and 6 of the track, detecting on
# every 3rd frame): 6 sightings without ID at each visit's start, which the detector itself may
# first see up to 2 frames late; so a visit's dwell starts up to 8 frames late.
PENDING_SIGHTINGS = 6
LATE_FRAMES = PENDING_SIGHTINGS + 2


@pytest.fixture(scope="module")
def tiny_day(face_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny scenario and the events face_offline writes for it with the graph's defaults, on
    every frame (RetinaFace every 3rd frame, tracks in between, identity and age/gender per track)."""
    day = tmp_path_factory.mktemp("tiny_day")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        labels = face_data / "identity" / "labels.csv"
        assert scenario.main(["--identity-csv", str(labels), "--out", str(day), *TINY_DAY]) == 0
        args = [str(day / scenario.VIDEO_FILE), "--database", str(day / "events.sqlite")]
        args += ["--gallery", str(day / "gallery.sqlite"), "--start", TINY_START]
        assert offline.main([*args, "--no-progress"]) == 0
    return day


def score_tiny_day(day: Path, visit_gap_s: float, capsys: pytest.CaptureFixture[str]) -> dict:
    args = ["scenario", "--scenario", str(day), "--database", str(day / "events.sqlite")]
    args += ["--start", TINY_START, "--visit-gap-s", str(visit_gap_s), "--json"]
    capsys.readouterr()
    assert face_metrics(args) == 0
    return json.loads(capsys.readouterr().out)


def test_pipeline_keeps_one_id_per_person_over_a_tiny_day(
    tiny_day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = score_tiny_day(tiny_day, 2.0, capsys)
    persons = tables["persons"]
    assert len(persons) == 3 and sorted(p["visits"] for p in persons) == [1, 1, 2], "plan: one return"
    (scores,) = tables["scores"]
    assert scores["recall"] >= 0.9 and scores["precision"] >= 0.9, scores
    for person in persons:
        assert (person["face_ids"], person["switches"], person["persons_on_id"]) == (1, 0, 1), person
        without_id = round(person["sightings"] * (1 - person["consistency"]))
        assert without_id <= PENDING_SIGHTINGS * person["visits"], person
    assert len({p["face_id"] for p in persons}) == 3
    fps = scenario.ScenarioSettings().fps
    assert scores["missed_visits"] == 0 and scores["dwell_MAE_s"] <= LATE_FRAMES / fps, scores


@pytest.mark.parametrize(
    ("visit_gap_s", "repeat_customers", "visits"),
    [(2.0, 1, 4), (30.0, 0, 3)],  # a gap longer than the absence merges the two visits
)
def test_the_returning_person_is_a_repeat_customer_for_a_gap_shorter_than_the_absence(
    tiny_day: Path, capsys: pytest.CaptureFixture[str], visit_gap_s: float, repeat_customers: int, visits: int
) -> None:
    tables = score_tiny_day(tiny_day, visit_gap_s, capsys)
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    assert counts["customers"] == (3, 3)
    assert counts["repeat_customers"] == (1, repeat_customers)
    assert counts["visits"] == (4, visits)
    (returner,) = [p for p in tables["persons"] if p["visits"] == 2]
    assert returner["pred_visits"] == visits - 2


# A day of three cameras. ann: cam1 0..23, a 2 s walk, cam3 48..71; back after 8 s on cam1 168..191.
# bob: cam1 0..35, cam2 60..71, cam3 84..107. Each camera shows them at the same boxes.
TRIP_VISITS = [
    TrueVisit("ann", 1, 0, 23, "cam1"),
    TrueVisit("ann", 1, 48, 71, "cam3"),
    TrueVisit("ann", 2, 168, 191, "cam1"),
    TrueVisit("bob", 1, 0, 35, "cam1"),
    TrueVisit("bob", 1, 60, 71, "cam2"),
    TrueVisit("bob", 1, 84, 107, "cam3"),
]
TRIP_TRUTH = [
    TruthFace(frame, v.person, ANN_BOX if v.person == "ann" else BOB_BOX, v.camera)
    for v in TRIP_VISITS
    for frame in range(v.first_frame, v.last_frame + 1)
]
TRIP_GAP_S = 5.0  # longer than any walk (and than bob's cam1 to cam3), shorter than ann's absence


def seen_camera(face: TruthFace) -> str | None:
    return face.camera


def own_id(face: TruthFace) -> int:
    return 1 if face.person == "ann" else 2


def trip_events(
    camera_of: Callable[[TruthFace], str | None] = seen_camera,
    face_id_of: Callable[[TruthFace], int] = own_id,
) -> list[FaceEvent]:
    """Every 3rd frame detected, on the camera and with the face ID the functions give (None: not seen)."""
    return [
        FaceEvent(
            camera, stamp(face.frame), own_id(face), face_id_of(face), 30.0, "female", face.box, 0.3, False
        )
        for face in TRIP_TRUTH
        if face.frame % 3 == 0 and (camera := camera_of(face)) is not None
    ]


def trip_scores(events: list[FaceEvent]) -> dict:
    return score_scenario(events, TRIP_TRUTH, TRIP_VISITS, range(0, 192, 3), CLOCK, TRIP_GAP_S)


def test_a_perfect_camera_day_scores_perfect_journeys_and_transitions() -> None:
    tables = trip_scores(trip_events())
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    assert {q: counts[q] for q in ("customers", "visits", "repeat_customers", "camera_visits")} == {
        "customers": (2, 2),
        "visits": (3, 3),
        "repeat_customers": (1, 1),
        "camera_visits": (6, 6),
    }
    assert [(r["person"], r["visits"], r["pred_visits"]) for r in tables["persons"]] == [
        ("ann", 2, 2),
        ("bob", 1, 1),
    ]
    (scores,) = tables["scores"]
    assert (scores["recall"], scores["precision"], scores["consistency"]) == (1.0, 1.0, 1.0)
    assert (scores["journeys_right"], scores["transitions_off"], scores["missed_visits"]) == (1.0, 0, 0)
    # Every 3rd frame is seen: a stay ends up to 2 frames early, so a walk looks up to 2 frames longer.
    assert scores["transit_MAE_s"] == pytest.approx(2 / 12)
    assert scores["dwell_MAE_s"] <= 1.0 and scores["heat_mass_min"] >= 0.9
    assert [(r["person"], r["camera"], r["error_s"]) for r in tables["visits"]] == [
        ("ann", "cam1", pytest.approx(-2 / 12)),
        ("ann", "cam3", pytest.approx(-2 / 12)),
        ("ann", "cam1", pytest.approx(-2 / 12)),
        ("bob", "cam1", pytest.approx(-2 / 12)),
        ("bob", "cam2", pytest.approx(-2 / 12)),
        ("bob", "cam3", pytest.approx(-2 / 12)),
    ]
    assert [
        (r["person"], r["visit"], r["cameras"], r["pred_cameras"], r["right"]) for r in tables["journeys"]
    ] == [
        ("ann", 1, "cam1>cam3", "cam1>cam3", True),
        ("ann", 2, "cam1", "cam1", True),
        ("bob", 1, "cam1>cam2>cam3", "cam1>cam2>cam3", True),
    ]
    assert tables["journeys"][0]["transit_s"] == "2.08" and tables["journeys"][0]["pred_transit_s"] == "2.25"
    assert tables["transitions"] == [
        {"from": "cam1", "to": "cam2", "truth": 1, "predicted": 1},
        {"from": "cam1", "to": "cam3", "truth": 1, "predicted": 1},
        {"from": "cam2", "to": "cam3", "truth": 1, "predicted": 1},
    ]
    assert [(r["camera"], r["events"]) for r in tables["heat"]] == [("cam1", 28), ("cam2", 4), ("cam3", 16)]


def test_a_missed_camera_makes_a_wrong_journey_and_wrong_transitions() -> None:
    missed = trip_events(
        camera_of=lambda face: None if (face.person, face.camera) == ("bob", "cam2") else face.camera
    )
    tables = trip_scores(missed)
    (scores,) = tables["scores"]
    assert scores["journeys_right"] == pytest.approx(2 / 3) and scores["missed_visits"] == 1
    assert tables["journeys"][2]["pred_cameras"] == "cam1>cam3" and not tables["journeys"][2]["right"]
    moves = {(r["from"], r["to"]): (r["truth"], r["predicted"]) for r in tables["transitions"]}
    assert moves == {("cam1", "cam2"): (1, 0), ("cam1", "cam3"): (1, 2), ("cam2", "cam3"): (1, 0)}
    assert scores["transitions_off"] == 3


def test_a_wrong_order_makes_a_wrong_journey() -> None:
    swap = {"cam2": "cam3", "cam3": "cam2"}
    swapped = trip_events(
        camera_of=lambda face: swap.get(face.camera, face.camera) if face.person == "bob" else face.camera
    )
    tables = trip_scores(swapped)
    bob = tables["journeys"][2]
    assert (bob["cameras"], bob["pred_cameras"], bob["right"]) == ("cam1>cam2>cam3", "cam1>cam3>cam2", False)
    (scores,) = tables["scores"]
    assert scores["journeys_right"] == pytest.approx(2 / 3) and scores["transitions_off"] == 4
    assert scores["recall"] == pytest.approx(36 / 48)  # bob's events on cam2 and cam3 match no true face


def test_a_return_under_a_new_id_has_no_journey_of_that_customer() -> None:
    split = trip_events(face_id_of=lambda face: 3 if face.frame >= 168 else own_id(face))
    tables = trip_scores(split)
    ann_return = tables["journeys"][1]
    assert (ann_return["face_id"], ann_return["pred_cameras"], ann_return["right"]) == (1, "", False)
    assert tables["scores"][0]["transitions_off"] == 0  # the report's flow between cameras is still right


def write_camera_day(folder: Path) -> Path:
    """The three-camera day as files, as face_scenario --cameras 3 writes them, and its events."""
    folder.mkdir()
    settings = scenario.ScenarioSettings(duration_s=16, people=2, return_gap_s=6, cameras=3, transit_max_s=3)
    (folder / scenario.SETTINGS_FILE).write_text(json.dumps({"seed": 0, **asdict(settings)}))
    lines = ["camera,frame,person,x,y,w,h"]
    lines += [f"{t.camera},{t.frame},{t.person},{','.join(map(str, t.box.as_list()))}" for t in TRIP_TRUTH]
    (folder / scenario.GROUND_TRUTH_FILE).write_text("\n".join(lines) + "\n")
    lines = ["person,visit,camera,first_frame,last_frame,photo"]
    lines += [f"{v.person},{v.visit},{v.camera},{v.first_frame},{v.last_frame},x.jpg" for v in TRIP_VISITS]
    (folder / scenario.VISITS_FILE).write_text("\n".join(lines) + "\n")
    store = open_sqlite_store(folder / "events.sqlite")
    store.write_events(trip_events())
    store.close()
    return folder


def test_cli_scores_a_camera_day_with_journeys_transitions_and_heat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = write_camera_day(tmp_path / "day")
    args = ["scenario", "--scenario", str(day), "--database", str(day / "events.sqlite"), "--every", "3"]
    args += ["--start", "2023-11-14T22:13:20"]  # START_NS
    assert face_metrics([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"task", "counts", "scores", "persons", "visits", "journeys", "transitions", "heat"}
    (scores,) = out["scores"]
    assert scores["visit_gap_s"] == 4.5  # halfway between the longest walk (3 s) and the return gap (6 s)
    assert (scores["journeys_right"], scores["transitions_off"]) == (1.0, 0)
    assert score_day(trip_events(), day, START_NS, every=3)["scores"][0] == pytest.approx(scores, nan_ok=True)
    assert face_metrics(args) == 0
    printed = capsys.readouterr().out
    assert (
        "\n\njourneys:\nperson " in printed
        and "\n\ntransitions:\nfrom " in printed
        and "\n\nheat:\n" in printed
    )


# The real generator's three-camera day, scored with events on every frame at the true boxes: the
# truth files and the scoring agree on visits, repeat customers, journeys and transitions. (Its
# walks of at most 0.5 s and returns after at least 0.6 s are too close for every 3rd frame.)
CAMERA_DAY = ["--seed", "0", "--duration", "8", "--people", "3", "--dwell", "1", "1.5", "--return-gap", "0.6"]
CAMERA_DAY += ["--repeat-rate", "1", "--cameras", "3", "--transit", "0.25", "0.5", "--no-progress"]


def test_a_generated_camera_day_seen_perfectly_scores_its_own_truth(face_data: Path, tmp_path: Path) -> None:
    labels = face_data / "identity" / "labels.csv"
    assert scenario.main(["--identity-csv", str(labels), "--out", str(tmp_path), *CAMERA_DAY]) == 0
    truth, _ = read_truth(tmp_path)
    face_ids = {person: n for n, person in enumerate(sorted({t.person for t in truth}), start=1)}
    events = [
        FaceEvent(
            t.camera, stamp(t.frame), face_ids[t.person], face_ids[t.person], 30.0, "", t.box, 0.3, False
        )
        for t in truth
    ]
    tables = score_day(events, tmp_path, START_NS)
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    for quantity in ("customers", "visits", "repeat_customers", "camera_visits"):
        assert counts[quantity][0] == counts[quantity][1], quantity
    assert counts["repeat_customers"][0] >= 1
    assert all(row["visits"] == row["pred_visits"] for row in tables["persons"])
    (scores,) = tables["scores"]
    assert (scores["recall"], scores["journeys_right"], scores["transitions_off"]) == (1.0, 1.0, 0)
    assert scores["dwell_MAE_s"] <= 1.0 and scores["heat_mass_min"] >= 0.9
    assert len({row["cameras"] for row in tables["journeys"]}) > 1
