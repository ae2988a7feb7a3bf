"""The accuracy gate's threshold logic (pure functions) and its refusal to pass without data."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from face_eval.accuracy_gate import (
    TASKS,
    THRESHOLDS,
    Threshold,
    judge,
    main,
    metric_values,
    verdict_table,
)
from face_eval.data_paths import SHARED_DATA_ENV
from face_eval.scoring import REQUIRED_LABELS

FLOOR = Threshold("identity", "all", "pair_F1", 0.95)
CEILING = Threshold("agegender", "utkface", "age_MAE", 7.9, at_least=False)


@pytest.mark.parametrize(
    ("threshold", "value", "met"),
    [
        (FLOOR, 0.95, True),
        (FLOOR, 1.0, True),
        (FLOOR, 0.949, False),
        (FLOOR, math.nan, False),
        (CEILING, 7.9, True),
        (CEILING, 5.0, True),
        (CEILING, 7.91, False),
        (CEILING, math.nan, False),
    ],
)
def test_a_bound_is_inclusive_and_nan_never_meets_it(threshold: Threshold, value: float, met: bool) -> None:
    assert threshold.met_by(value) is met


def test_judge_fails_a_drop_and_a_metric_not_measured() -> None:
    measured = {FLOOR.key: 0.9}
    floor, ceiling = judge(measured, [FLOOR, CEILING])
    assert (floor.value, floor.passed) == (0.9, False)
    assert math.isnan(ceiling.value) and not ceiling.passed
    assert [v.passed for v in judge({FLOOR.key: 1.0, CEILING.key: 7.0}, [FLOOR, CEILING])] == [True, True]


def test_metric_values_keys_every_numeric_column_by_task_and_source() -> None:
    rows = [
        {"backend": "dlib_onnx", "source": "utkface", "images": 504, "age_MAE": 7.59},
        {"backend": "dlib_onnx", "source": "all", "images": 684, "age_MAE": 7.8},
    ]
    assert metric_values("agegender", rows) == {
        ("agegender", "utkface", "images"): 504.0,
        ("agegender", "utkface", "age_MAE"): 7.59,
        ("agegender", "all", "images"): 684.0,
        ("agegender", "all", "age_MAE"): 7.8,
    }


def test_the_table_names_metric_value_threshold_and_result() -> None:
    table = verdict_table(judge({FLOOR.key: 1.0, CEILING.key: 8.5}, [FLOOR, CEILING])).splitlines()
    assert table[0].split() == ["task", "source", "metric", "value", "threshold", "result"]
    assert table[1].split() == ["identity", "all", "pair_F1", "1.000", ">=", "0.950", "pass"]
    assert table[2].split() == ["agegender", "utkface", "age_MAE", "8.500", "<=", "7.900", "FAIL"]


def test_every_threshold_names_a_task_the_gate_runs() -> None:
    tasks = {task.name for task in TASKS}
    assert tasks <= set(REQUIRED_LABELS)
    assert {t.task for t in THRESHOLDS} == tasks
    assert len({t.key for t in THRESHOLDS}) == len(THRESHOLDS)


def test_no_data_is_an_error_not_a_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, "none")
    assert main([]) == 2
    assert f"{SHARED_DATA_ENV} hides it" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
