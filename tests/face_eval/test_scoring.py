"""``face_metrics`` on hand-made prediction and label files: joins, per-source rows, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from face_eval.records import read_json_lines, source_of, write_json_line
from face_eval.scoring import (
    format_table,
    main,
    score_agegender,
    score_detection,
    score_identity,
    score_verification,
)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def write_lines(path: Path, records: list[dict]) -> Path:
    with path.open("w") as f:
        for record in records:
            write_json_line(f, record)
    return path


def by_source(rows: list[dict]) -> dict[str, dict]:
    return {row["source"]: row for row in rows}


BOXES = [
    {"path": "a.jpg", "x": "0", "y": "0", "w": "10", "h": "10", "ignore": "0", "dataset": "dlib"},
    {"path": "a.jpg", "x": "50", "y": "50", "w": "10", "h": "10", "ignore": "1", "dataset": "dlib"},
    {"path": "w.jpg", "x": "0", "y": "0", "w": "20", "h": "20", "ignore": "0", "dataset": "wider",
     "wider_in_easy": "1", "wider_in_hard": "1"},
    {"path": "w.jpg", "x": "100", "y": "0", "w": "4", "h": "4", "ignore": "0", "dataset": "wider",
     "wider_in_easy": "0", "wider_in_hard": "1"},
]  # fmt: skip


def test_detection_rows_per_source_with_ignored_and_setting_boxes() -> None:
    predictions = [
        {"path": "a.jpg", "boxes": [[0, 0, 10, 10, 0.9], [50, 50, 10, 10, 0.8], [200, 0, 10, 10, 0.1]]},
        {"path": "w.jpg", "boxes": [[1, 1, 20, 20, 0.7]]},
        {"path": "unlabelled.jpg", "boxes": [[0, 0, 5, 5, 0.5]]},
    ]
    hard = by_source(score_detection(predictions, BOXES, wider_setting="hard"))
    assert set(hard) == {"dlib", "wider", "all"}
    assert hard["dlib"] | {"AP": None} == {
        "source": "dlib", "images": 1, "faces": 1, "ignored": 1, "detections": 3,
        "precision": 0.5, "recall": 1.0, "AP": None,
    }  # fmt: skip
    assert hard["dlib"]["AP"] == 1.0  # the false alarm ranks below the face
    assert (hard["wider"]["faces"], hard["wider"]["recall"]) == (2, 0.5)  # the 4 px face is missed
    easy = by_source(score_detection(predictions, BOXES, wider_setting="easy"))
    assert (easy["wider"]["faces"], easy["wider"]["ignored"], easy["wider"]["recall"]) == (1, 1, 1.0)
    assert easy["all"]["images"] == 2  # the unlabelled prediction is left out


def test_images_csv_adds_images_without_faces() -> None:
    predictions = [{"path": "empty.jpg", "boxes": [[0, 0, 10, 10, 0.9]]}]
    images = [{"path": "empty.jpg", "dataset": "dlib"}]
    (dlib, everything) = score_detection(predictions, BOXES, images)
    assert (dlib["source"], dlib["faces"], dlib["detections"], dlib["precision"]) == ("dlib", 0, 1, 0.0)
    assert math.isnan(everything["recall"])


IDENTITY_LABELS = [
    {"path": "a1", "person": "ann", "source": "s1"},
    {"path": "a2", "person": "ann", "source": "s1"},
    {"path": "b1", "person": "bob", "source": "s2"},
    {"path": "b2", "person": "bob", "source": "s2"},
]


def test_identity_rows() -> None:
    predictions = [
        {"path": "a1", "face_id": 1, "detected": True},
        {"path": "a2", "face_id": 1, "detected": True},
        {"path": "b1", "face_id": 2, "detected": True},
        {"path": "b2", "face_id": None, "detected": False},
    ]
    rows = by_source(score_identity(predictions, IDENTITY_LABELS))
    assert rows["s1"]["pair_F1"] == 1.0
    assert (rows["s2"]["pair_recall"], rows["s2"]["ids_per_person"], rows["s2"]["no_face"]) == (0.0, 2.0, 1)
    assert (rows["all"]["persons"], rows["all"]["face_ids"], rows["all"]["max_ids_per_person"]) == (2, 2, 2)
    assert rows["all"]["pair_recall"] == 0.5


def test_verification_rows_count_a_missing_face_as_different() -> None:
    labels = [
        {"path_a": "a1", "path_b": "a2", "same": "1"},
        {"path_a": "a1", "path_b": "b1", "same": "0"},
        {"path_a": "b1", "path_b": "b2", "same": "1"},
    ]
    predictions = [
        {
            "path_a": "a1",
            "path_b": "a2",
            "distance": 0.3,
            "same": True,
            "detected_a": True,
            "detected_b": True,
        },
        {
            "path_a": "a1",
            "path_b": "b1",
            "distance": 0.9,
            "same": False,
            "detected_a": True,
            "detected_b": True,
        },
        {
            "path_a": "b1",
            "path_b": "b2",
            "distance": None,
            "same": None,
            "detected_a": True,
            "detected_b": False,
        },
    ]
    (row,) = score_verification(predictions, labels)  # no source column: only "all"
    assert (row["source"], row["pairs"], row["same_pairs"], row["no_face"]) == ("all", 3, 2, 1)
    assert row["accuracy"] == pytest.approx(2 / 3)
    assert row["ROC_AUC"] == 0.5  # the same pair without a face ranks below the different one


def test_agegender_rows_per_backend_and_source() -> None:
    labels = [
        {"path": "u1", "age": "30", "gender": "male", "age_min": "30", "age_max": "30", "dataset": "utk"},
        {"path": "f1", "age": "20-29", "gender": "female", "age_min": "20", "age_max": "29", "dataset": "ff"},
        {"path": "f2", "age": "70+", "gender": "male", "age_min": "70", "age_max": "", "dataset": "ff"},
    ]
    predictions = [
        {"path": "u1", "backend": "x", "age": 34.0, "gender": "male", "detected": True},
        {"path": "f1", "backend": "x", "age": 25.0, "gender": "male", "detected": True},
        {"path": "f2", "backend": "x", "age": 80.0, "gender": "male", "detected": False},
        {"path": "u1", "backend": "y", "age": None, "gender": None, "detected": False, "error": "unreadable"},
    ]
    rows = {(r["backend"], r["source"]): r for r in score_agegender(predictions, labels)}
    assert rows["x", "utk"]["age_MAE"] == 4.0
    assert (rows["x", "ff"]["age_MAE"], rows["x", "ff"]["gender_accuracy"]) == (0.0, 0.5)
    assert rows["x", "all"]["age_MAE"] == pytest.approx(4 / 3)
    assert rows["x", "all"]["no_face"] == 1
    assert (rows["y", "all"]["images"], rows["y", "all"]["no_estimate"]) == (1, 1)
    assert math.isnan(rows["y", "all"]["age_MAE"])


def test_repeated_predictions_are_an_error_not_a_silent_overwrite() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        score_identity([{"path": "a1", "face_id": 1}, {"path": "a1", "face_id": 2}], IDENTITY_LABELS)


def test_table_formats_floats_and_nan() -> None:
    table = format_table([{"source": "all", "n": 3, "f1": 2 / 3, "auc": math.nan}])
    assert table.splitlines() == ["source  n     f1  auc", "all     3  0.667    -"]


def test_json_lines_carry_nan_as_null(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "p.jsonl", [{"path": "a", "age": math.nan, "boxes": [[1, 2, 3, 4, math.inf]]}]
    )
    assert read_json_lines(path) == [{"path": "a", "age": None, "boxes": [[1, 2, 3, 4, None]]}]


@pytest.mark.parametrize(
    ("row", "source"),
    [
        ({"source": "s", "dataset": "d"}, "s"),
        ({"dataset": "d"}, "d"),
        ({"path": "p"}, "-"),
        ({"source": ""}, "-"),
    ],
)
def test_source_of(row: dict[str, str], source: str) -> None:
    assert source_of(row) == source


def test_cli_prints_a_table_or_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = write_csv(tmp_path / "labels.csv", "path,person,source\na1,ann,s1\na2,ann,s1\nb1,bob,s1")
    pred = write_lines(
        tmp_path / "p.jsonl", [{"path": p, "face_id": 1, "detected": True} for p in ("a1", "a2", "b1")]
    )
    assert main(["identity", "--pred", str(pred), "--labels", str(labels), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "identity"
    assert [r["source"] for r in out["rows"]] == ["s1", "all"]
    assert out["rows"][1]["pair_precision"] == pytest.approx(1 / 3)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "face_metrics"),
            "identity",
            "--pred",
            str(pred),
            "--labels",
            str(labels),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[0].split()[:3] == ["source", "images", "no_face"]


def test_cli_names_a_missing_label_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = write_csv(tmp_path / "labels.csv", "path,source\na1,s1")
    pred = write_lines(tmp_path / "p.jsonl", [{"path": "a1", "face_id": 1}])
    assert main(["identity", "--pred", str(pred), "--labels", str(labels)]) == 2
    assert "missing column(s) person" in capsys.readouterr().err
