"""The report's figures are written as real, non-empty PNG files, with and without data."""

from __future__ import annotations

import math

import pytest
from face_analytics.journeys import TransitionMatrix
from face_analytics.plots import plot_age_by_face, plot_dwell, plot_gender_by_age, plot_journeys
from face_common.faces import Box, FaceEvent
from face_sink.stats import summarize

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def events() -> list[FaceEvent]:
    ages = [(1, 31.0, "female"), (1, 35.0, "female"), (2, 70.0, "male"), (3, math.nan, "")]
    return [
        FaceEvent("cam0", t * 10**9, 0, face_id, age, gender, Box(0, 0, 9, 9), 0.2, False)
        for t, (face_id, age, gender) in enumerate(ages)
    ]


@pytest.mark.parametrize("data", [events(), []], ids=["events", "empty"])
def test_plots_are_non_empty_pngs(tmp_path, data):
    summary = summarize(data, visit_gap_s=1800)
    for path in (
        plot_age_by_face(summary.profiles, tmp_path / "new" / "age.png"),
        plot_gender_by_age(summary, tmp_path / "gender.png"),
    ):
        content = path.read_bytes()
        assert content.startswith(PNG_SIGNATURE) and len(content) > 2000


@pytest.mark.parametrize(
    "groups", [({"cam0": [1.0, 5.0, 9.0]}, {"25-34 female": [1.0, 9.0], "unknown unknown": [5.0]}), ({}, {})]
)
def test_dwell_plot_is_a_non_empty_png_with_and_without_visits(tmp_path, groups):
    content = plot_dwell(*groups, tmp_path / "dwell.png").read_bytes()
    assert content.startswith(PNG_SIGNATURE) and len(content) > 2000


def journey_data(cameras: int) -> tuple[TransitionMatrix, dict[tuple[str, str], list[float]]]:
    """Every camera to every other one, with a few transit times each."""
    names = tuple(f"camera-{i}" for i in range(cameras))
    counts = tuple(tuple(0 if i == j else 3 for j in range(cameras)) for i in range(cameras))
    seconds = {(a, b): [0.0, 12.5, 40.0] for a in names for b in names if a != b}
    return TransitionMatrix(names, counts), seconds


@pytest.mark.parametrize(
    "data",
    [
        journey_data(3),
        journey_data(6),
        (TransitionMatrix(("cam0",), ((0,),)), {}),
        (TransitionMatrix((), ()), {}),
    ],
    ids=["three cameras", "30 pairs (20 drawn)", "single stops only", "empty"],
)
def test_journeys_plot_is_a_non_empty_png_with_and_without_transitions(tmp_path, data):
    content = plot_journeys(*data, tmp_path / "journeys.png").read_bytes()
    assert content.startswith(PNG_SIGNATURE) and len(content) > 2000
