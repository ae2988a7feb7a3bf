"""Heat maps (issue 10): time weights, where the mass lies, period and camera filtering, and the
``face_heatmap`` command end to end on an SQLite store written through the real writer."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from face_analytics.heatmap import (
    GREY,
    accumulate,
    blurred,
    camera_heat,
    main,
    mass_within,
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
