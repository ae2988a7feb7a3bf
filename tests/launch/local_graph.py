"""Runs a graph of ``launch/`` (``local.launch.yaml`` by default) to its end in a ROS domain of the
caller's, as a user would. (A module of its own, not conftest: test files import from it by name.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CAMERAS = ("door", "till")


def two_camera_recordings(face_data: Path, folder: Path) -> dict[str, Path]:
    """A recorded photo folder per camera (one photo a second), in ``CAMERAS`` order: Kit, Obama,
    Kit at the door; Rose, Obama (another photo), Rose at the till. Obama is seen by both."""
    examples = face_data / "identity" / "images" / "face_recognition" / "examples"
    knn = examples / "knn_examples"
    kit, rose = knn / "train" / "kit_harington" / "john1.jpeg", knn / "train" / "rose_leslie" / "img1.jpg"
    photos = {
        "door": [kit, examples / "obama-240p.jpg", kit],
        "till": [rose, knn / "test" / "obama1.jpg", rose],
    }
    for camera, camera_photos in photos.items():
        (folder / camera).mkdir(parents=True)
        for number, photo in enumerate(camera_photos):
            shutil.copy(photo, folder / camera / f"{number}.jpg")
    return {camera: folder / camera for camera in CAMERAS}


def run_local_graph(
    arguments: dict[str, object],
    domain_id: int,
    timeout_s: float = 300.0,
    launch_file: str = "local.launch.yaml",
) -> str:
    """Launch a graph with ``name:=value`` arguments; assert it ended cleanly and return its log."""
    launch = subprocess.run(
        [str(Path(sys.executable).parent / "graph_launch"), str(REPO / "launch" / launch_file)]
        + [f"{name}:={value}" for name, value in arguments.items()],
        cwd=REPO,
        env={**os.environ, "ROS_DOMAIN_ID": str(domain_id), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    log = launch.stdout + launch.stderr
    assert launch.returncode == 0, log[-6000:]
    return log
