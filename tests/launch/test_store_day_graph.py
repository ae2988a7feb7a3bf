"""A two-camera store day through the ROS 2 graph (``launch/cameras.launch.yaml``: per camera a
camera, detection and age/gender node; one identity node and one sink for both), scored against
its ground truth as ``tests/face_eval/test_store_day_cameras.py`` scores ``face_offline``: the
report's visits, repeat customers, dwell per camera stay, journeys and transition counts, and the
heat-map mass, taken from the rows the graph's sink wrote."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from face_common.timestamps import utc_ns
from face_eval import scenario
from face_eval.scenario_scoring import read_settings, score_day
from face_sink.schema import open_sqlite_store
from local_graph import run_local_graph
from ros_processes import exit_counters, launched_node_log

START = "2024-05-01T10:00:00"
# Seed 1 plans, from ../shared/data/identity and from samples/identity alike, 3 people with two
# returns and journeys over one and both cameras.
DAY = ["--seed", "1", "--duration", "24", "--people", "3", "--repeat-rate", "0.5", "--dwell", "3", "4"]
DAY += ["--return-gap", "6", "--face-size", "100", "150", "--cameras", "2", "--transit", "2", "3"]


@pytest.fixture(scope="module")
def day(face_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two_cameras")
    labels = face_data / "identity" / "labels.csv"
    assert scenario.main(["--identity-csv", str(labels), "--out", str(folder), *DAY, "--no-progress"]) == 0
    return folder


def test_the_graph_reports_the_store_days_visits_and_journeys(day: Path, ros_domain_id: int) -> None:
    settings = read_settings(day)
    database = day / "events.sqlite"
    arguments = {
        "cam1_source": day / settings.video_file("cam1"),
        "cam2_source": day / settings.video_file("cam2"),
        "recorded_start": START,  # stamps are the recording's own: frame i at START + i / 12 s
        "fps": settings.fps,
        "gallery": day / "gallery.sqlite",
        "database": database,
        "exit_when_idle_s": "4.0",
    }
    began = time.monotonic()
    log = run_local_graph(arguments, ros_domain_id, timeout_s=180, launch_file="cameras.launch.yaml")
    print(f"\ncameras.launch.yaml on a {settings.duration_s:g} s day: {time.monotonic() - began:.1f} s")
    for camera in ("camera", "camera-2"):
        assert exit_counters(launched_node_log(log, camera))["published"] == settings.frames, log[-4000:]
    store = open_sqlite_store(database)
    try:
        events = store.read_events()
    finally:
        store.close()

    tables = score_day(events, day, utc_ns(START))
    (scores,) = tables["scores"]
    print({name: scores[name] for name in ("recall", "precision", "ids_per_person", "dwell_MAE_s")})
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    for quantity in ("customers", "visits", "repeat_customers", "camera_visits"):
        truth, predicted = counts[quantity]
        assert predicted == truth, (quantity, counts)
    assert scores["recall"] >= 0.9 and scores["ids_per_person"] == 1.0, scores
    assert scores["missed_visits"] == 0
    for stay in tables["visits"]:
        assert abs(stay["error_s"]) <= 1.0, stay
    assert all(j["right"] for j in tables["journeys"]), tables["journeys"]
    for pair in tables["transitions"]:
        assert pair["predicted"] == pair["truth"], pair
    for camera in tables["heat"]:
        assert camera["mass_in_truth"] >= 0.9, camera
