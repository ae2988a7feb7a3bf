"""The embedded default graph, launched from its YAML file as separate node processes over DDS,
writes the same face events to SQLite as offline processing of the same frames.

Both use the same cores, so with every frame delivered the face IDs, genders and ages must
agree frame by frame; only the stamps differ (capture time vs. file time).
"""

from __future__ import annotations

import csv
import itertools
import shutil
import sqlite3
from pathlib import Path

import pytest
from agegender_node.attribution import AttributionSettings
from camera_node.resize import ResizeMode
from camera_node.sources import FrameClock
from face_analytics.offline import FrameSize, source_frames
from face_analytics.pipeline import open_pipeline, process_frames
from face_detect_node.detection import DetectionConfig
from face_sink.schema import open_sqlite_store
from identity_node.identification import IdentitySettings
from local_graph import REPO, run_local_graph
from ros_processes import exit_counters, launched_node_log

CLIP = REPO / "samples" / "video" / "short_hamilton_clip.mp4"
# The graph's default backends (deterministic); frame rates low enough that no stage drops a
# frame on 2 cores.


def frame_results(database: Path) -> list[list[tuple]]:
    """Per frame with faces, in capture order: (face_index, face_id, gender, age to 0.1 y)."""
    con = sqlite3.connect(database)
    rows = con.execute(
        "SELECT stamp_ns, face_index, face_id, gender, age FROM face_events ORDER BY stamp_ns, face_index"
    ).fetchall()
    con.close()
    return [
        [
            (index, face_id, gender, None if age is None else round(age, 1))
            for _, index, face_id, gender, age in group
        ]
        for _, group in itertools.groupby(rows, key=lambda row: row[0])
    ]


def run_offline(source: Path, frame_count: int, fps: float, tmp_path: Path) -> Path:
    database = tmp_path / "offline.sqlite"
    frames = source_frames(source, "cam1", FrameClock(0, fps), FrameSize(1280, 720, ResizeMode.LETTERBOX))
    detection = DetectionConfig(frame_rate=fps)
    store = open_sqlite_store(database)
    models = str(REPO / "models")
    identity, attribution = IdentitySettings(model_dir=models), AttributionSettings(model_dir=models)
    with open_pipeline(detection, identity, attribution, tmp_path / "offline_gallery.sqlite") as pipeline:
        process_frames(itertools.islice(frames, frame_count), pipeline, store)
    store.close()
    return database


def photo_folder(face_data: Path, folder: Path) -> Path:
    """The labelled identity photos as a camera source: several people, some seen twice."""
    folder.mkdir()
    with (face_data / "identity" / "labels.csv").open() as labels:
        for number, row in enumerate(itertools.islice(csv.DictReader(labels), 10)):
            shutil.copy(face_data / "identity" / row["path"], folder / f"{number:02d}.jpg")
    return folder


@pytest.mark.parametrize(("source_name", "frame_count", "fps"), [("clip", 30, "3.0"), ("photos", 10, "1.0")])
def test_local_graph_writes_the_events_offline_processing_writes(
    source_name: str, frame_count: int, fps: str, face_data: Path, tmp_path: Path, ros_domain_id: int
) -> None:
    source = CLIP if source_name == "clip" else photo_folder(face_data, tmp_path / "photos")
    database = tmp_path / "graph.sqlite"
    arguments = {
        "fps": fps,
        "source": str(source),
        "max_frames": str(frame_count),
        "gallery": str(tmp_path / "graph_gallery.sqlite"),
        "database": str(database),
        "exit_when_idle_s": "8.0",
    }
    log = run_local_graph(arguments, ros_domain_id, timeout_s=240)
    # Every camera frame reached the end of the chain, so the comparison is frame for frame.
    assert exit_counters(launched_node_log(log, "camera"))["published"] == frame_count, log[-4000:]
    assert f"after {frame_count} frames: source done" in log, log[-4000:]

    graph = frame_results(database)
    offline = frame_results(run_offline(source, frame_count, float(fps), tmp_path))
    ids = sorted({face[1] for frame in graph for face in frame})
    print(f"\n{source_name}: {len(graph)} of {frame_count} frames with faces, face IDs {ids}")
    assert len(offline) >= frame_count // 3, "the source shows faces in many of its frames"
    assert graph == offline
