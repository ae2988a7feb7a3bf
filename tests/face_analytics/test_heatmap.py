"""Heat maps (issue 10): time weights, where the mass lies, period and camera filtering, the
floor-plan view (mass lands at the plan points, cameras add up, unplaceable events are counted),
and the ``face_heatmap`` command end to end on an SQLite store written through the real writer."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from face_analytics.floor_plan import load_floor_plan, to_plan
from face_analytics.heatmap import (
    GREY,
    accumulate,
    blurred,
    camera_heat,
    main,
    mass_within,
    plan_heat,
    time_weights,
)
from face_common.faces import Box, FaceEvent
from face_sink.schema import open_sqlite_store

S = 10**9
T0 = 1_700_000_000 * S  # 2023-11-14 22:13:20 UTC
WIDTH, HEIGHT = 1280, 720
REGION_A = Box(100, 100, 200, 200)  # a face lingers here 30 s ...
REGION_B = Box(800, 380, 200, 200)  # ... and here 10 s
FPS = 10


def event(stamp_ns: int, box: Box, camera_id: str = "cam0", index: int = 0) -> FaceEvent:
    return FaceEvent(camera_id, stamp_ns, index, 1, 30.0, "female", box, 0.2, False)


def faces_in(region: Box, start_ns: int, seconds: float, camera_id: str = "cam0") -> list[FaceEvent]:
    """A face box (half the region's size, jittered) within ``region`` at FPS for ``seconds``."""
    rng = np.random.default_rng(start_ns % 1000)
    w, h = region.w // 2, region.h // 2
    out = []
    for i in range(round(seconds * FPS)):
        dx, dy = rng.integers(0, region.w - w), rng.integers(0, region.h - h)
        out.append(
            event(start_ns + i * S // FPS, Box(region.x + int(dx), region.y + int(dy), w, h), camera_id)
        )
    return out


def two_regions(start_ns: int = T0) -> list[FaceEvent]:
    """30 s in A, then (after a 5 s gap that must not count) 10 s in B."""
    return [*faces_in(REGION_A, start_ns, 30), *faces_in(REGION_B, start_ns + 35 * S, 10)]


def test_weights_run_to_the_cameras_next_frame_capped_and_faces_share_a_frames_time():
    box = Box(0, 0, 10, 10)
    events = [
        event(T0, box),
        event(T0 + S // 10, box, index=0),
        event(T0 + S // 10, box, index=1),  # two faces in one frame: each spent the 0.2 s
        event(T0 + 3 * S // 10, box),
        event(T0 + 60 * S, box),  # a minute later: the gap is capped at 1 s
        event(T0 + 5 * S, box, camera_id="cam1"),  # another camera's stamps are its own
        event(T0 + 7 * S, box, camera_id="cam1"),
    ]
    weights = time_weights(events, max_weight_s=1.0)
    assert weights == pytest.approx([0.1, 0.2, 0.2, 1.0, 0.2, 1.0, 1.0])
    assert time_weights([event(T0, box)]).tolist() == [1.0]  # a lone frame counts for the cap
    assert time_weights([]).size == 0


def test_grid_puts_weight_at_box_centres_and_clamps_centres_off_the_frame():
    grid = accumulate([Box(0, 0, 16, 16), Box(0, 0, 16, 16), Box(2000, -50, 10, 10)], [1.0, 0.5, 2.0], 64, 32)
    assert grid.shape == (4, 8)
    assert grid[1, 1] == 1.5 and grid[0, 7] == 2.0 and grid.sum() == 3.5


def test_heat_mass_lies_in_the_true_boxes_and_follows_the_time_spent():
    events = two_regions()
    heat = blurred(accumulate([e.box for e in events], time_weights(events), WIDTH, HEIGHT))
    assert heat.sum() == pytest.approx(1.0)
    assert mass_within(heat, [REGION_A, REGION_B]) >= 0.9  # the check
    in_a, in_b = mass_within(heat, [REGION_A]), mass_within(heat, [REGION_B])
    assert in_a / in_b == pytest.approx(3.0, rel=0.05)  # 30 s against 10 s (the 5 s gap: its 1 s cap)
    assert math.isnan(mass_within(np.zeros((3, 3)), [REGION_A]))


def write_store(path, events):
    store = open_sqlite_store(path)
    store.write_events(events)
    store.close()


def test_the_period_and_the_camera_select_the_events(tmp_path):
    database = tmp_path / "events.sqlite"
    later = T0 + 3600 * S
    write_store(
        database,
        [
            *faces_in(REGION_A, T0, 20),
            *faces_in(REGION_B, later, 20),
            *faces_in(REGION_B, T0, 20, camera_id="cam1"),  # same time, other camera
        ],
    )
    store = open_sqlite_store(database)
    try:
        first, count, seconds = camera_heat(store, "cam0", WIDTH, HEIGHT, until_ns=later)
        assert count == 200 and seconds == pytest.approx(20.0)
        assert mass_within(first, [REGION_A]) >= 0.9 and mass_within(first, [REGION_B]) == 0
        second, count, _ = camera_heat(store, "cam0", WIDTH, HEIGHT, since_ns=later)
        assert count == 200 and mass_within(second, [REGION_A]) == 0
        _, count, _ = camera_heat(store, "nope", WIDTH, HEIGHT)
        assert count == 0
    finally:
        store.close()


def test_command_writes_the_heat_map_over_grey_or_a_reference_image(tmp_path, capsys):
    database = tmp_path / "events.sqlite"
    write_store(database, two_regions())
    out = tmp_path / "maps" / "cam0.png"
    argv = ["--database", str(database), "--camera-id", "cam0", "--out", str(out)]
    assert main([*argv, "--start", "2023-11-14T22:13:20", "--end", "2023-11-14T23:13:52+01:00"]) == 0
    assert "300 events of camera cam0 (30.0 s weighted)" in capsys.readouterr().out  # A only
    image = cv2.imread(str(out))
    assert image.shape == (HEIGHT, WIDTH, 3)
    assert (image[200, 200] != GREY).any()  # hot where the face lingered
    assert (image[700, 1270] == GREY).all() and (image[480, 900] == GREY).all()  # B is out of the period

    reference = tmp_path / "scene.png"
    cv2.imwrite(str(reference), np.full((360, 640, 3), (0, 120, 0), dtype=np.uint8))  # half size: scaled up
    assert main([*argv, "--reference", str(reference)]) == 0
    image = cv2.imread(str(out))
    assert image.shape == (HEIGHT, WIDTH, 3)
    assert image[700, 1270].tolist() == [0, 120, 0]
    assert (image[480, 900] != [0, 120, 0]).any()  # B is in the whole period


def test_command_errors_are_clear_and_create_nothing(tmp_path, capsys):
    database = tmp_path / "none.sqlite"
    out = tmp_path / "map.png"
    assert main(["--database", str(database), "--camera-id", "cam0", "--out", str(out)]) == 2
    assert "no event database" in capsys.readouterr().err
    assert not database.exists() and not out.exists()
    write_store(database, [])
    bad = ["--database", str(database), "--camera-id", "cam0", "--out", str(out)]
    assert main([*bad, "--reference", str(tmp_path / "missing.png")]) == 2
    assert main([*bad, "--start", "yesterday"]) == 2
    assert not out.exists()


PLAN = """
plan_size: [400, 300]
cameras:
  cam0:  # a perspective view: the frame's far (upper) side is the plan's narrower...
    image_points: [[400, 300], [880, 300], [1180, 650], [100, 650]]
    plan_points: [[100, 50], [300, 50], [300, 250], [100, 250]]
  cam1:
    image_points: [[300, 200], [980, 200], [1280, 720], [0, 720]]
    plan_points: [[200, 150], [390, 150], [390, 290], [200, 290]]
"""


def floor_plan(tmp_path):
    config = tmp_path / "plan.yaml"
    config.write_text(PLAN)
    return config, load_floor_plan(config)


def around(x: float, y: float, half: int = 24) -> Box:
    """A square 3 blur sigmas (8 px) around a plan point."""
    return Box(round(x) - half, round(y) - half, 2 * half, 2 * half)


def faces_at(camera, plan, plan_xy, start_ns, seconds):
    """A face standing still at ``plan_xy`` on the plan, as ``camera`` sees it (box centre)."""
    x, y = to_plan(np.linalg.inv(plan.cameras[camera].homography), [plan_xy])[0]
    return [
        event(start_ns + i * S // FPS, Box(round(x) - 40, round(y) - 50, 80, 100), camera)
        for i in range(round(seconds * FPS))
    ]


def test_faces_at_a_cameras_reference_points_land_at_its_plan_points(tmp_path):
    _, plan = floor_plan(tmp_path)
    cam0 = plan.cameras["cam0"]
    events = [
        event(T0 + k * 20 * S + i * S // FPS, Box(round(x) - 40, round(y) - 50, 80, 100))
        for k, (x, y) in enumerate(cam0.image_points)
        for i in range(10 * FPS)
    ]
    result = plan_heat(events, plan, sigma_px=8.0)
    assert result.events == {"cam0": 400, "cam1": 0} and result.off_plan == 0 and result.other_cameras == {}
    assert result.heat.shape == (300 // 8 + 1, 400 // 8)
    assert mass_within(result.heat, [around(x, y) for x, y in cam0.plan_points]) >= 0.9
    for x, y in cam0.plan_points:  # each mark its own 10 s
        assert mass_within(result.heat, [around(x, y)]) == pytest.approx(0.25, abs=0.03)


def test_two_cameras_add_up_on_one_plan_and_unplaceable_events_are_counted(tmp_path):
    _, plan = floor_plan(tmp_path)
    at_till, at_door = (150, 100), (350, 250)
    events = [
        *faces_at("cam0", plan, at_till, T0, 30),
        *faces_at("cam1", plan, at_door, T0, 10),
        *faces_in(REGION_A, T0, 5, camera_id="cam9"),  # a camera the plan does not have
        event(T0, Box(630, 25, 20, 10), "cam0"),  # far up cam0's picture: past the plan's top edge
        event(T0, Box(630, 3, 20, 10), "cam0"),  # above the horizon of cam0's face-height plane
    ]
    result = plan_heat(events, plan, sigma_px=8.0)
    assert result.events == {"cam0": 300, "cam1": 100}
    assert result.other_cameras == {"cam9": 50} and result.off_plan == 2
    assert result.seconds == pytest.approx(40.0)
    till, door = mass_within(result.heat, [around(*at_till)]), mass_within(result.heat, [around(*at_door)])
    assert till + door >= 0.9 and till / door == pytest.approx(3.0, rel=0.05)


def test_command_draws_the_floor_plan_and_reports_what_it_could_not_place(tmp_path, capsys):
    config, plan = floor_plan(tmp_path)
    database = tmp_path / "events.sqlite"
    write_store(
        database,
        [
            *faces_at("cam0", plan, (150, 100), T0, 30),
            *faces_at("cam1", plan, (350, 250), T0, 10),
            *faces_in(REGION_A, T0, 5, camera_id="cam9"),
        ],
    )
    out = tmp_path / "plan.png"
    argv = ["--database", str(database), "--floor-plan", str(config), "--out", str(out)]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "400 events on the floor plan (cam0 300, cam1 100; 40.0 s weighted)" in report
    assert f"not drawn: 50 events of camera cam9, which {config} does not have" in report
    image = cv2.imread(str(out))
    assert image.shape[1] == 640 and image.shape[0] > 300  # the plan, widened for the key below it
    assert (image[100, 150] != GREY).any() and (image[20, 20] == GREY).all()

    assert main([*argv, "--camera-id", "cam1"]) == 0
    assert "100 events on the floor plan (cam0 0, cam1 100;" in capsys.readouterr().out
    assert (cv2.imread(str(out))[100, 150] == GREY).all()


def test_floor_plan_errors_exit_2_with_the_reason(tmp_path, capsys):
    config, _ = floor_plan(tmp_path)
    database = tmp_path / "events.sqlite"
    write_store(database, [])
    out = tmp_path / "plan.png"
    argv = ["--database", str(database), "--out", str(out)]
    assert main([*argv, "--floor-plan", str(config), "--camera-id", "cam5"]) == 2
    assert "'cam5' is not in the floor plan (cameras: cam0, cam1)" in capsys.readouterr().err
    assert main([*argv, "--floor-plan", str(config), "--reference", str(config)]) == 2
    assert "--reference is one camera's photo" in capsys.readouterr().err
    config.write_text(PLAN.replace("[100, 250]]", "]", 1))
    assert main([*argv, "--floor-plan", str(config)]) == 2
    assert "camera 'cam0': plan_points: need 4 points" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and "give --camera-id, --floor-plan or both" in capsys.readouterr().err
