"""The store-day scenario: the visit plan, its ground truth, and the files ``face_scenario`` writes."""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.faces import Box
from face_common.geometry import match_greedy
from face_detect_node.detectors import make_detector
from face_eval.scenario import (
    BACKGROUND_BGR,
    GRID_COLUMNS,
    GRID_ROWS,
    GROUND_TRUTH_FILE,
    VIDEO_FILE,
    VISITS_FILE,
    Cutout,
    ScenarioSettings,
    Visit,
    face_box_at,
    ground_truth_rows,
    main,
    plan_visits,
    render_frame,
)

PEOPLE = [f"p{i}" for i in range(8)]
SETTINGS = ScenarioSettings(
    duration_s=60, people=8, repeat_rate=0.5, dwell_min_s=3, dwell_max_s=10, return_gap_s=5
)


def cutout(width: int = 120, height: int = 150, value: int = 200) -> Cutout:
    """A flat-coloured stand-in picture with its face box in the middle."""
    return Cutout(np.full((height, width, 3), value, dtype=np.uint8), Box(30, 40, 60, 70))


@pytest.mark.parametrize("seed", range(6))
def test_plan_keeps_stays_in_range_apart_and_in_free_slots(seed: int) -> None:
    visits = plan_visits(PEOPLE, SETTINGS, np.random.default_rng(seed))
    fps = SETTINGS.fps
    by_person = defaultdict(list)
    for visit in visits:
        by_person[visit.person].append(visit)
        assert 0 <= visit.first_frame <= visit.last_frame < SETTINGS.frames
        assert 3 * fps <= visit.last_frame - visit.first_frame + 1 <= 10 * fps
        assert 0 <= visit.slot < GRID_COLUMNS * GRID_ROWS
        assert SETTINGS.face_min_px <= visit.face_px <= SETTINGS.face_max_px
    assert set(by_person) == set(PEOPLE)
    for stays in by_person.values():
        assert [v.visit for v in stays] == list(range(1, len(stays) + 1)) and len(stays) <= 2
        if len(stays) == 2:
            assert stays[1].first_frame - stays[0].last_frame > 5 * fps  # the return gap
    by_slot = defaultdict(list)
    for visit in visits:
        by_slot[visit.slot].append(visit)
    for stays in by_slot.values():
        for earlier, later in itertools.pairwise(stays):
            assert later.first_frame > earlier.last_frame + fps  # a slot empties for a second


@pytest.mark.parametrize(("rate", "returns"), [(0.0, 0), (1.0, len(PEOPLE))])
def test_repeat_rate_decides_who_comes_back(rate: float, returns: int) -> None:
    settings = ScenarioSettings(duration_s=60, repeat_rate=rate, dwell_min_s=2, dwell_max_s=4, return_gap_s=5)
    visits = plan_visits(PEOPLE, settings, np.random.default_rng(1))
    assert sum(v.visit == 2 for v in visits) == returns


def test_the_same_seed_plans_the_same_day() -> None:
    plan = [plan_visits(PEOPLE, SETTINGS, np.random.default_rng(7)) for _ in range(2)]
    assert plan[0] == plan[1]
    assert plan[0] != plan_visits(PEOPLE, SETTINGS, np.random.default_rng(8))


def test_too_many_people_at_once_is_refused() -> None:
    settings = ScenarioSettings(duration_s=2, dwell_min_s=2, dwell_max_s=2, repeat_rate=0)
    with pytest.raises(ValueError, match="more than 8 people in the store"):
        plan_visits([f"p{i}" for i in range(9)], settings, np.random.default_rng(0))


@pytest.mark.parametrize(("first", "last"), [(0, 0), (5, 17), (30, 35)])
def test_a_person_placed_in_frames_i_to_j_is_in_exactly_those_rows(first: int, last: int) -> None:
    settings = ScenarioSettings(duration_s=3)
    visits = [Visit("ann", 1, first, last, 2, 100, 0.3), Visit("bob", 1, 0, 35, 5, 100, 1.0)]
    rows = ground_truth_rows(visits, [cutout(), cutout()], settings)
    assert [frame for frame, person, *_ in rows if person == "ann"] == list(range(first, last + 1))
    assert len(rows) == (last - first + 1) + 36
    cell = settings.slot_cell(2)
    for _frame, person, x, y, w, h in rows:
        if person == "ann":
            assert (w, h) == (60, 70)
            assert cell.x <= x and x + w <= cell.x + cell.w and cell.y <= y and y + h <= cell.y + cell.h


def test_rendered_frames_show_the_cutout_at_its_ground_truth_box_and_background_elsewhere() -> None:
    settings = ScenarioSettings(duration_s=3)
    visit = Visit("ann", 1, 4, 9, 0, 100, 0.0)
    picture = cutout()
    picture.image[40:110, 30:90] = (10, 20, 30)  # the face box region, recognisable
    for frame in (4, 7, 9):
        image = render_frame(frame, [visit], [picture], settings)
        box = face_box_at(visit, frame, picture, settings)
        assert (image[box.y : box.y + box.h, box.x : box.x + box.w] == (10, 20, 30)).all()
        assert (image[:, settings.width // 2 :] == BACKGROUND_BGR).all()
    boxes = {face_box_at(visit, frame, picture, settings) for frame in range(4, 10)}
    assert len(boxes) > 1  # it sways
    for frame in (3, 10):
        assert (render_frame(frame, [visit], [picture], settings) == BACKGROUND_BGR).all()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def file_hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


SCENARIO_ARGS = ["--duration", "3", "--people", "3", "--dwell", "1", "1.5", "--return-gap", "0.25"]
SCENARIO_ARGS += ["--repeat-rate", "1", "--no-progress"]


@pytest.fixture(scope="module")
def scenario(face_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same small scenario written twice, into two folders."""
    folders = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    for folder in folders:
        csv_path = face_data / "identity" / "labels.csv"
        assert (
            main(["--identity-csv", str(csv_path), "--out", str(folder), "--seed", "5", *SCENARIO_ARGS]) == 0
        )
    return folders


def test_video_has_the_requested_frame_count_size_and_rate(scenario: tuple[Path, Path]) -> None:
    capture = cv2.VideoCapture(str(scenario[0] / VIDEO_FILE))
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FPS) == 12.0
    decoded = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        assert image.shape == (720, 1280, 3)
        decoded += 1
    capture.release()
    assert decoded == 36


def test_same_seed_writes_the_same_files(scenario: tuple[Path, Path]) -> None:
    first, second = (file_hashes(folder) for folder in scenario)
    assert set(first) == {VIDEO_FILE, GROUND_TRUTH_FILE, VISITS_FILE, "scenario.json"}
    assert first == second


def test_another_seed_writes_another_day(
    face_data: Path, tmp_path: Path, scenario: tuple[Path, Path]
) -> None:
    csv_path = face_data / "identity" / "labels.csv"
    assert main(["--identity-csv", str(csv_path), "--out", str(tmp_path), "--seed", "6", *SCENARIO_ARGS]) == 0
    assert file_hashes(tmp_path)[GROUND_TRUTH_FILE] != file_hashes(scenario[0])[GROUND_TRUTH_FILE]


def test_ground_truth_rows_are_exactly_the_visits_frames(
    face_data: Path, scenario: tuple[Path, Path]
) -> None:
    visits = read_rows(scenario[0] / VISITS_FILE)
    assert len(visits) == 6 and sorted(v["visit"] for v in visits) == ["1", "1", "1", "2", "2", "2"]
    expected = {
        (frame, v["person"])
        for v in visits
        for frame in range(int(v["first_frame"]), int(v["last_frame"]) + 1)
    }
    rows = read_rows(scenario[0] / GROUND_TRUTH_FILE)
    assert [(int(r["frame"]), r["person"]) for r in rows] == sorted(expected)
    shown = defaultdict(set)
    for v in visits:
        shown[v["person"]].add(v["photo"])
    listed = defaultdict(set)
    for row in read_rows(face_data / "identity" / "labels.csv"):
        listed[row["person"]].add(row["path"])
    for person, photos in shown.items():
        assert photos <= listed[person]
        assert len(photos) == min(2, len(listed[person]))  # a return shows another photo if there is one


def test_the_detector_finds_the_faces_where_the_ground_truth_says(scenario: tuple[Path, Path]) -> None:
    """The pasted face boxes are real faces at the right place, seen through the video codec."""
    rows = read_rows(scenario[0] / GROUND_TRUTH_FILE)
    frame = max({int(r["frame"]) for r in rows}, key=lambda f: sum(int(r["frame"]) == f for r in rows))
    truth = [Box(*(int(r[k]) for k in "xywh")) for r in rows if int(r["frame"]) == frame]
    capture = cv2.VideoCapture(str(scenario[0] / VIDEO_FILE))
    capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, image = capture.read()
    capture.release()
    assert ok
    found = [box for box, _ in make_detector("hog").detect(image)]
    assert len(match_greedy(found, truth, iou_threshold=0.5)) == len(truth)
