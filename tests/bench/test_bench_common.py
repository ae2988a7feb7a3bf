from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import bench_common
import pytest
from bench_common import (
    add_output_arguments,
    cpu_model,
    default_clip,
    emit,
    format_records,
    format_table,
    median_ms,
    mem_total_kib,
    percentile,
    video_frames,
)


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([5.0], 0.5, 5.0),
        ([5.0], 0.95, 5.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),  # unsorted input
        (list(range(1, 21)), 0.5, 10),
        (list(range(1, 21)), 0.95, 19),
        (list(range(1, 101)), 0.95, 95),
        (list(range(1, 101)), 1.0, 100),
        (list(range(1, 101)), 0.0, 1),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 0.5))


def test_format_table_aligns_and_rounds() -> None:
    text = format_table(["name", "ms"], [["hog", 12.345], ["cnn", 1234.5], ["x", float("nan")]], 1)
    assert text.splitlines() == [
        "name      ms",
        "hog     12.3",
        "cnn   1234.5",
        "x        nan",
    ]


def test_format_records_picks_columns_by_key() -> None:
    records = [{"detector": "hog", "median_ms": 5.0, "ignored": 1}]
    assert format_records({"det": "detector", "ms": "median_ms"}, records).splitlines() == [
        "det   ms",
        "hog  5.0",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU\nflags\t: fpu\n", "Intel(R) Xeon(R) CPU"),
        ("processor\t: 0\nmodel name\t: A\n\nprocessor\t: 1\nmodel name\t: B\n", "A"),
        ("processor\t: 0\nHardware\t: BCM2835\n", ""),
        ("", ""),
    ],
)
def test_cpu_model(text: str, expected: str) -> None:
    assert cpu_model(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("MemTotal:       24716652 kB\nMemFree:  1 kB\n", 24716652), ("MemFree: 1 kB\n", 0)],
)
def test_mem_total_kib(text: str, expected: int) -> None:
    assert mem_total_kib(text) == expected


def test_median_ms_warms_up_once_then_times_each_call() -> None:
    calls = []
    assert median_ms(lambda: calls.append(1), 4) >= 0.0
    assert len(calls) == 5


@pytest.mark.parametrize("as_json", [True, False])
def test_emit_prints_one_form_and_writes_the_json_file(
    as_json: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_output_arguments(parser)
    out = tmp_path / "deep" / "r.json"
    args = parser.parse_args(["--json-out", str(out), *(["--json"] if as_json else [])])
    emit(args, {"results": [1, 2]}, lambda: "THE TABLE")
    printed = capsys.readouterr().out
    assert json.loads(out.read_text()) == {"results": [1, 2]}
    if as_json:
        assert json.loads(printed) == {"results": [1, 2]}
    else:
        assert printed.strip() == "THE TABLE"


def test_default_clip_prefers_the_street_clip(tmp_path: Path) -> None:
    assert default_clip(tmp_path).name == bench_common.FALLBACK_CLIP  # folder without it
    (tmp_path / bench_common.STREET_CLIP).write_bytes(b"")
    assert default_clip(tmp_path) == tmp_path / bench_common.STREET_CLIP


@pytest.mark.parametrize("consecutive", [True, False])
def test_video_frames_are_letterboxed_720p(consecutive: bool) -> None:
    clip = bench_common.REPO_ROOT / "samples" / "video" / bench_common.FALLBACK_CLIP  # 640x360
    frames = video_frames([clip, clip], 3, consecutive=consecutive)
    assert len(frames) == 6
    assert {frame.shape for frame in frames} == {(720, 1280, 3)}
    assert frames[0].any()
