"""Two cameras through ``launch/cameras.launch.yaml`` (a camera, detection and age/gender per
camera, one identity node, one sink), fed recorded photo folders stamped with the recordings' own
time: every camera's events land in the one database at their recorded stamps, and the person both
cameras see carries one face ID on both."""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from local_graph import run_local_graph
from ros_processes import exit_counters, launched_node_log

START = "2024-05-01T09:00:00"
START_S = int(datetime(2024, 5, 1, 9, tzinfo=UTC).timestamp())


def photo_folder(folder: Path, photos: list[Path]) -> Path:
    """A camera's recording: one photo a second (camera_node's rate for an image folder)."""
    folder.mkdir()
    for number, photo in enumerate(photos):
        shutil.copy(photo, folder / f"{number}.jpg")
    return folder


def test_two_cameras_share_one_gallery_and_one_database(
    face_data: Path, tmp_path: Path, ros_domain_id: int
) -> None:
    examples = face_data / "identity" / "images" / "face_recognition" / "examples"
    knn = examples / "knn_examples"
    obama, kit, rose = (
        examples / "obama-240p.jpg",
        knn / "train" / "kit_harington" / "john1.jpeg",
        knn / "train" / "rose_leslie" / "img1.jpg",
    )
    database = tmp_path / "events.sqlite"
    arguments = {
        "cam1_id": "door",
        "cam1_source": photo_folder(tmp_path / "door", [kit, obama, kit]),
        "cam2_id": "till",
        "cam2_source": photo_folder(tmp_path / "till", [rose, knn / "test" / "obama1.jpg", rose]),
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

    con = sqlite3.connect(database)
    rows = con.execute(
        "SELECT camera_id, stamp_ns, face_id FROM face_events ORDER BY camera_id, stamp_ns"
    ).fetchall()
    con.close()
    ids: dict[tuple[str, int], set[int]] = {}
    for camera_id, stamp_ns, face_id in rows:
        seconds, rest = divmod(stamp_ns - START_S * 10**9, 10**9)
        assert rest == 0, "stamped with the recording's own time"
        ids.setdefault((camera_id, seconds), set()).add(face_id)
    print(f"face IDs per (camera, second): {ids}")
    assert set(ids) == {(camera, second) for camera in ("door", "till") for second in range(3)}
    assert ids["door", 1] == ids["till", 1], "Obama has one face ID on both cameras"
    assert ids["door", 0] == ids["door", 2] and ids["till", 0] == ids["till", 2]
    assert len({frozenset(ids[camera, second]) for camera, second in ids}) == 3, "three people"
