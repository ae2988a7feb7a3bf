"""The store-day scenario: the visit plan (one camera, and journeys over three), its ground truth,
and the files ``face_scenario`` writes."""

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
    ENTRANCE,
    GRID_COLUMNS,
    GRID_ROWS,
    GROUND_TRUTH_FILE,
    JOURNEYS_FILE,
    VIDEO_FILE,
    VISITS_FILE,
    Cutout,
    ScenarioSettings,
    Visit,
    face_box_at,
    ground_truth_rows,
    journeys,
    main,
    photo_numbers,
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


# A day of three cameras: every store visit a journey from cam1 through some of cam2 and cam3.
CAMERA_SETTINGS = ScenarioSettings(
    duration_s=90, people=8, repeat_rate=0.5, dwell_min_s=3, dwell_max_s=6, return_gap_s=6, cameras=3
)


@pytest.mark.parametrize("seed", range(6))
def test_journeys_start_at_the_entrance_walk_within_the_transit_range_and_keep_slots_apart(seed: int) -> None:
    settings = CAMERA_SETTINGS
    visits = plan_visits(PEOPLE, settings, np.random.default_rng(seed))
    fps = settings.fps
    trips = journeys(visits)
    assert {person for person, _ in trips} == set(PEOPLE)
    for (_, number), stays in trips.items():
        cameras = [stay.camera for stay in stays]
        assert (
            cameras[0] == ENTRANCE
            and len(set(cameras)) == len(cameras)
            and set(cameras) <= {"cam1", "cam2", "cam3"}
        )
        assert {stay.visit for stay in stays} == {number}
        for stay in stays:
            assert 0 <= stay.first_frame <= stay.last_frame < settings.frames
            assert 3 * fps <= stay.last_frame - stay.first_frame + 1 <= 6 * fps
        for before, after in itertools.pairwise(stays):
            assert 2 * fps <= after.first_frame - before.last_frame <= 4 * fps  # the walk, on no camera
    for person in PEOPLE:
        if (person, 2) in trips:
            assert trips[person, 2][0].first_frame - trips[person, 1][-1].last_frame > 6 * fps
    for camera in settings.camera_ids:
        by_slot = defaultdict(list)
        for visit in sorted((v for v in visits if v.camera == camera), key=lambda v: v.first_frame):
            by_slot[visit.slot].append(visit)
        for stays in by_slot.values():
            for earlier, later in itertools.pairwise(stays):
                assert later.first_frame > earlier.last_frame + fps


def test_journeys_take_every_length_and_order_and_returns_happen() -> None:
    plans = [plan_visits(PEOPLE, CAMERA_SETTINGS, np.random.default_rng(seed)) for seed in range(6)]
    routes = {tuple(s.camera for s in stays) for plan in plans for stays in journeys(plan).values()}
    assert {len(route) for route in routes} == {1, 2, 3}
    assert ("cam1", "cam2", "cam3") in routes and ("cam1", "cam3", "cam2") in routes
    assert all(any(v.visit == 2 for v in plan) for plan in plans)


def test_the_same_seed_plans_the_same_journeys() -> None:
    plan = [plan_visits(PEOPLE, CAMERA_SETTINGS, np.random.default_rng(7)) for _ in range(2)]
    assert plan[0] == plan[1]
    assert plan[0] != plan_visits(PEOPLE, CAMERA_SETTINGS, np.random.default_rng(8))


def test_one_camera_plans_stay_at_the_entrance() -> None:
    visits = plan_visits(PEOPLE, SETTINGS, np.random.default_rng(0))
    assert {v.camera for v in visits} == {ENTRANCE} and SETTINGS.video_file(ENTRANCE) == VIDEO_FILE


def test_each_stay_of_a_person_shows_the_next_photo() -> None:
    stays = [
        Visit("ann", 1, 0, 9, 0, 100, 0.0, "cam1"),
        Visit("ann", 2, 80, 90, 0, 100, 0.0, "cam1"),
        Visit("ann", 1, 30, 40, 0, 100, 0.0, "cam3"),
        Visit("bob", 1, 5, 9, 0, 100, 0.0, "cam1"),
    ]
    assert photo_numbers(stays) == {stays[0]: 0, stays[2]: 1, stays[1]: 2, stays[3]: 0}


CAMERA_ARGS = ["--duration", "8", "--people", "3", "--dwell", "1", "1.5", "--return-gap", "0.6"]
CAMERA_ARGS += ["--repeat-rate", "1", "--cameras", "3", "--transit", "0.25", "0.5", "--no-progress"]
CAMERA_FILES = {"store_day_cam1.mp4", "store_day_cam2.mp4", "store_day_cam3.mp4"}
CAMERA_FILES |= {GROUND_TRUTH_FILE, VISITS_FILE, JOURNEYS_FILE, "scenario.json"}


@pytest.fixture(scope="module")
def camera_day(face_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same small three-camera day written twice, into two folders."""
    folders = tmp_path_factory.mktemp("cams_a"), tmp_path_factory.mktemp("cams_b")
    for folder in folders:
        csv_path = face_data / "identity" / "labels.csv"
        assert main(["--identity-csv", str(csv_path), "--out", str(folder), "--seed", "0", *CAMERA_ARGS]) == 0
    return folders


def test_a_camera_day_writes_one_video_per_camera_and_the_same_files_for_the_same_seed(
    camera_day: tuple[Path, Path],
) -> None:
    first, second = (file_hashes(folder) for folder in camera_day)
    assert set(first) == CAMERA_FILES and first == second
    for camera in ("cam1", "cam2", "cam3"):
        capture = cv2.VideoCapture(str(camera_day[0] / f"store_day_{camera}.mp4"))
        assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 96
        capture.release()


def test_camera_truth_rows_are_exactly_each_cameras_stays(
    face_data: Path, camera_day: tuple[Path, Path]
) -> None:
    visits = read_rows(camera_day[0] / VISITS_FILE)
    assert list(visits[0]) == ["person", "visit", "camera", "first_frame", "last_frame", "photo"]
    assert {v["visit"] for v in visits} == {"1", "2"}
    expected = {
        (v["camera"], frame, v["person"])
        for v in visits
        for frame in range(int(v["first_frame"]), int(v["last_frame"]) + 1)
    }
    rows = read_rows(camera_day[0] / GROUND_TRUTH_FILE)
    assert list(rows[0]) == ["camera", "frame", "person", "x", "y", "w", "h"]
    assert [(r["camera"], int(r["frame"]), r["person"]) for r in rows] == sorted(expected)
    listed = defaultdict(list)
    for row in read_rows(face_data / "identity" / "labels.csv"):
        listed[row["person"]].append(row["path"])
    for (person, _), stays in itertools.groupby(visits, key=lambda v: (v["person"], v["visit"])):
        photos = [v["photo"] for v in stays]
        assert len(set(photos)) == min(len(photos), len(listed[person]))  # a new view per camera


def test_journeys_file_is_the_visits_files_stays_in_order(camera_day: tuple[Path, Path]) -> None:
    visits = read_rows(camera_day[0] / VISITS_FILE)
    journeys_read = read_rows(camera_day[0] / JOURNEYS_FILE)
    assert len(journeys_read) == len({(v["person"], v["visit"]) for v in visits})
    for journey in journeys_read:
        stays = [v for v in visits if (v["person"], v["visit"]) == (journey["person"], journey["visit"])]
        stays.sort(key=lambda v: int(v["first_frame"]))
        assert journey["cameras"] == ">".join(v["camera"] for v in stays)
        assert journey["cameras"].startswith("cam1")
        assert (journey["first_frame"], journey["last_frame"]) == (
            stays[0]["first_frame"],
            stays[-1]["last_frame"],
        )
        walks = [(int(b["first_frame"]) - int(a["last_frame"])) / 12 for a, b in itertools.pairwise(stays)]
        assert journey["transit_s"] == ";".join(f"{w:.2f}" for w in walks)
        assert all(0.25 <= w <= 0.5 for w in walks)


def test_a_return_gap_no_longer_than_a_walk_is_refused(face_data: Path, tmp_path: Path) -> None:
    csv_path = face_data / "identity" / "labels.csv"
    args = ["--identity-csv", str(csv_path), "--out", str(tmp_path), "--cameras", "2", "--return-gap", "3"]
    assert main(args) == 2
