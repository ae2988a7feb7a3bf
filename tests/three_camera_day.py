"""The three-camera store day that several test folders read: ``face_scenario --cameras 3`` run
through ``face_offline`` (one detector and tracker per camera, one identity stage and gallery), as
``tests/conftest.py``'s session fixture ``three_camera_day`` makes it once per test run."""

from __future__ import annotations

from pathlib import Path

from face_analytics import offline
from face_common.faces import FaceEvent
from face_eval import scenario
from face_eval.scenario_scoring import read_settings
from face_sink.schema import open_sqlite_store

START = "2024-05-01T10:00:00"
CAMERAS = ("cam1", "cam2", "cam3")
# Seed 3 plans, from ../shared/data/identity and from samples/identity alike, 4 people with
# returns and journeys of different lengths over all three cameras.
DAY = ["--seed", "3", "--duration", "40", "--people", "4", "--repeat-rate", "0.5", "--dwell", "3", "5"]
DAY += ["--return-gap", "8", "--face-size", "100", "150", "--cameras", "3", "--transit", "2", "4"]
#: Walks take at most 4 s and returns come at least 8 s apart: a gap between the two.
VISIT_GAP_S = 6.0
#: The event store ``face_offline`` wrote with the graph's defaults.
EVENTS = "events.sqlite"


def make_day(labels: Path, folder: Path) -> None:
    """Write the day into ``folder`` and its events with the graph's defaults into ``EVENTS``."""
    assert scenario.main(["--identity-csv", str(labels), "--out", str(folder), *DAY, "--no-progress"]) == 0
    run_day(folder, Path(EVENTS).stem)


def run_day(day: Path, name: str, *options: str) -> list[FaceEvent]:
    """``face_offline`` on the day's three recordings into ``<name>.sqlite``; its events."""
    settings = read_settings(day)
    sources = [f"{camera}={day / settings.video_file(camera)}" for camera in CAMERAS]
    database = day / f"{name}.sqlite"
    args = [*sources, "--database", str(database), "--gallery", str(day / f"{name}_gallery.sqlite")]
    args += ["--visit-gap-s", str(VISIT_GAP_S)]  # the sink's setting: the visits table's own gap
    assert offline.main([*args, "--start", START, "--no-progress", *options]) == 0
    return read_events(database)


def read_events(database: Path) -> list[FaceEvent]:
    store = open_sqlite_store(database)
    try:
        return store.read_events()
    finally:
        store.close()
