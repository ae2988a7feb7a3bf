"""A three-camera store day through the graph's cores, scored against its ground truth (issue 10).

``face_scenario --cameras 3`` plans each customer's journey (the entrance, then some of the other
cameras, walking 2-4 s between them) and one return; ``face_offline`` runs the three recordings
interleaved by stamp through one detector and tracker per camera and one identity stage (one
gallery), as the graph's one identity node serves several camera namespaces
(``tests/launch/test_cameras_launch.py`` checks that the graph writes the same events). What the
store report would say is then compared with the plan: visits, repeat customers, dwell per camera
stay, journeys, transition counts, heat-map mass, and ``face_merge`` repairing split IDs.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from face_analytics import merge, report
from face_common.faces import FaceEvent
from face_common.timestamps import utc_ns
from face_eval import scenario
from face_eval.scenario_scoring import score_day
from three_camera_day import CAMERAS, EVENTS, START, VISIT_GAP_S, read_events, run_day

#: A descriptor threshold strict enough to split a person into two IDs on this day.
SPLITTING_THRESHOLD = 0.4


@pytest.fixture
def day(three_camera_day: Path) -> Path:
    return three_camera_day


def scores_of(events: list[FaceEvent], day: Path) -> dict[str, list[dict]]:
    return score_day(events, day, utc_ns(START), VISIT_GAP_S)


def true_journeys(day: Path) -> list[str]:
    with (day / scenario.JOURNEYS_FILE).open() as f:
        return sorted(row["cameras"] for row in csv.DictReader(f))


def test_the_plan_has_returns_and_journeys_over_several_cameras(day: Path) -> None:
    with (day / scenario.JOURNEYS_FILE).open() as f:
        rows = list(csv.DictReader(f))
    assert any(row["visit"] == "2" for row in rows), "a repeat customer"
    assert len({row["cameras"].count(">") for row in rows}) >= 2, "journeys of different lengths"
    assert {camera for row in rows for camera in row["cameras"].split(">")} == set(CAMERAS)


def test_visits_dwell_journeys_and_heat_equal_the_ground_truth(day: Path) -> None:
    tables = scores_of(read_events(day / EVENTS), day)
    counts = {row["quantity"]: (row["truth"], row["predicted"]) for row in tables["counts"]}
    for quantity in ("customers", "visits", "repeat_customers", "camera_visits"):
        truth, predicted = counts[quantity]
        assert predicted == truth, (quantity, counts)
    assert all(p["pred_visits"] == p["visits"] for p in tables["persons"]), tables["persons"]
    (scores,) = tables["scores"]
    assert scores["ids_per_person"] == 1.0 and scores["merged_ids"] == 0, scores
    assert scores["missed_visits"] == 0
    for stay in tables["visits"]:
        assert abs(stay["error_s"]) <= 1.0, stay  # dwell per camera stay within 1 s
    assert all(j["right"] for j in tables["journeys"]), tables["journeys"]
    for pair in tables["transitions"]:
        assert pair["predicted"] == pair["truth"], pair
    assert sum(pair["truth"] for pair in tables["transitions"]) == sum(
        j.count(">") for j in true_journeys(day)
    )
    for camera in tables["heat"]:
        assert camera["mass_in_truth"] >= 0.9, camera


def section(text: str, title: str) -> list[str]:
    """The lines of one report section: after its title, up to the blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1 : end]


def test_the_report_prints_the_true_journeys_and_transitions_and_writes_the_plots(
    day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["--database", str(day / EVENTS), "--visit-gap-s", str(VISIT_GAP_S)]
    assert report.main([*args, "--plots-dir", str(tmp_path), "--max-rows", "1"]) == 0
    text = capsys.readouterr().out
    printed = []
    for line in section(text, "journeys (most common"):
        found = re.match(r"\s*(\d+)\s+[\d.]+%\s+(.+)$", line)
        if found:
            printed += [found[2].replace(" > ", ">")] * int(found[1])
    assert sorted(printed) == true_journeys(day)
    matrix = section(text, "transitions between cameras")
    assert matrix[0].split()[-3:] == list(CAMERAS)
    truth = scores_of(read_events(day / EVENTS), day)["transitions"]
    for row in matrix[1:]:
        source, *counts = row.split()
        for target, count in zip(CAMERAS, counts, strict=True):
            expected = sum(p["truth"] for p in truth if (p["from"], p["to"]) == (source, target))
            assert int(count) == expected, (source, target)
    for name in ("dwell.png", "journeys.png", *(f"heat_{camera}.png" for camera in CAMERAS)):
        assert (tmp_path / name).stat().st_size > 10_000, name


def test_merge_brings_split_ids_back_to_one_per_person_without_merging_people(
    day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    split = scores_of(run_day(day, "strict", "--match-threshold", str(SPLITTING_THRESHOLD)), day)
    assert split["scores"][0]["ids_per_person"] > 1.02, "the strict threshold should split someone"
    database, gallery = day / "strict.sqlite", day / "strict_gallery.sqlite"
    args = ["--database", str(database), "--gallery", str(gallery), "--visit-gap-s", str(VISIT_GAP_S)]
    capsys.readouterr()
    assert merge.main([*args, "--dry-run"]) == 0
    assert "<-" in capsys.readouterr().out  # the proposals are listed ...
    assert scores_of(read_events(database), day) == split  # ... and nothing changed
    assert merge.main([*args, "--apply"]) == 0
    merged = scores_of(read_events(database), day)
    (scores,) = merged["scores"]
    assert scores["ids_per_person"] <= 1.02 and scores["merged_ids"] == 0, scores
    assert all(p["persons_on_id"] == 1 for p in merged["persons"]), merged["persons"]
    assert all(j["right"] for j in merged["journeys"]), merged["journeys"]
