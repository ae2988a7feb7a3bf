"""Two cameras through ``launch/cameras.launch.yaml`` (a camera, detection and age/gender per
camera, one identity node, one sink), fed recorded photo folders stamped with the recordings' own
time: every camera's events land in the one database at their recorded stamps, the person both
cameras see carries one face ID on both, and ``face_offline`` of the same recordings (the graph's
cores, cameras interleaved by stamp) writes the same events."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from face_analytics.offline import main as face_offline
from local_graph import CAMERAS, REPO, run_local_graph, two_camera_recordings
from ros_processes import exit_counters, launched_node_log

START = "2024-05-01T09:00:00"
START_S = int(datetime(2024, 5, 1, 9, tzinfo=UTC).timestamp())


def test_two_cameras_share_one_gallery_and_one_database(
    face_data: Path, tmp_path: Path, ros_domain_id: int
) -> None:
    recordings = two_camera_recordings(face_data, tmp_path)
    database = tmp_path / "events.sqlite"
    arguments = {
        "cam1_id": "door",
        "cam1_source": recordings["door"],
        "cam2_id": "till",
        "cam2_source": recordings["till"],
        "recorded_start": START,
        "fps": "1.0",  # the folders' own rate: frames 1 s apart are detected, not tracked
        "gallery": tmp_path / "gallery.sqlite",
        "database": database,
        "exit_when_idle_s": "4.0",
    }
    began = time.monotonic()
    log = run_local_graph(arguments, ros_domain_id, timeout_s=120, launch_file="cameras.launch.yaml")
    print(f"\ncameras.launch.yaml: {time.monotonic() - began:.1f} s")
    for camera in ("camera", "camera-2"):
        assert exit_counters(launched_node_log(log, camera))["published"] == 3, log[-4000:]

    rows = events(database)
    ids: dict[tuple[str, int], set[int]] = {}
    for camera_id, stamp_ns, _, face_id, *_ in rows:
        seconds, rest = divmod(stamp_ns - START_S * 10**9, 10**9)
        assert rest == 0, "stamped with the recording's own time"
        ids.setdefault((camera_id, seconds), set()).add(face_id)
    print(f"face IDs per (camera, second): {ids}")
    assert set(ids) == {(camera, second) for camera in CAMERAS for second in range(3)}
    assert ids["door", 1] == ids["till", 1], "Obama has one face ID on both cameras"
    assert ids["door", 0] == ids["door", 2] and ids["till", 0] == ids["till", 2]
    assert len({frozenset(ids[camera, second]) for camera, second in ids}) == 3, "three people"

    offline_database = tmp_path / "offline.sqlite"
    sources = [f"{camera}={recordings[camera]}" for camera in CAMERAS]
    options = [
        "--start",
        START,
        "--database",
        offline_database,
        "--gallery",
        tmp_path / "offline_gallery.sqlite",
    ]
    assert (
        face_offline([*sources, *map(str, options), "--model-dir", str(REPO / "models"), "--no-progress"])
        == 0
    )
    offline = events(offline_database)
    assert [row[:3] + row[4:] for row in rows] == [row[:3] + row[4:] for row in offline]
    id_pairs = {(row[3], other[3]) for row, other in zip(rows, offline, strict=True)}
    assert len(id_pairs) == len({row[3] for row in rows}) == 3, "the same people, maybe numbered otherwise"


def events(database: Path) -> list[tuple]:
    """(camera, stamp, face index, face ID, gender, age to 0.1 y) per event, in that order."""
    con = sqlite3.connect(database)
    rows = con.execute(
        "SELECT camera_id, stamp_ns, face_index, face_id, gender, round(age, 1) FROM face_events "
        "ORDER BY camera_id, stamp_ns, face_index"
    ).fetchall()
    con.close()
    return rows
