"""The report's figures are written as real, non-empty PNG files, with and without data."""

from __future__ import annotations

import math

import pytest
from face_analytics.plots import plot_age_by_face, plot_dwell, plot_gender_by_age
from face_analytics.stats import summarize
from face_common.faces import Box, FaceEvent

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
