"""``face_predict`` with the real cores on the labelled data (``../shared/data`` or ``samples/``).

Each test feeds a CSV holding only the path columns, so a prediction cannot depend on a label;
``face_metrics``' functions then score the output against the real labels.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from agegender_node.model_files import ONNX_FILE
from face_common.faces import GENDERS
from face_detect_node.detectors import DEFAULT_MIN_FACE_SIZE
from face_eval.predict import main
from face_eval.records import read_csv_rows, read_json_lines
from face_eval.scoring import score_agegender, score_detection, score_identity, score_verification

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
#: Enough rows to mean something, few enough for two shared cores.
IDENTITY_ROWS = 12
AGEGENDER_ROWS = 6


def paths_only_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = ("path",)) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
    return path


def predict(task: str, csv_path: Path, root: Path, out: Path, *extra: str) -> list[dict]:
    assert (
        main([task, "--csv", str(csv_path), "--root", str(root), "--out", str(out), "--no-progress", *extra])
        == 0
    )
    return read_json_lines(out)


def test_detection_finds_the_dlib_faces(face_data: Path, tmp_path: Path) -> None:
    root = face_data / "detection"
    images = [row for row in read_csv_rows(root / "images.csv") if row["dataset"] == "dlib_pascal_voc"]
    predictions = predict(
        "detection", paths_only_csv(tmp_path / "in.csv", images), root, tmp_path / "p.jsonl"
    )
    assert [p["path"] for p in predictions] == [row["path"] for row in images]
    for prediction in predictions:
        for x, y, w, h, score in prediction["boxes"]:
            assert all(isinstance(v, int) for v in (x, y, w, h)) and isinstance(score, float)
            assert min(w, h) >= DEFAULT_MIN_FACE_SIZE  # the detector's minimum face size holds
    (dlib, _) = score_detection(predictions, read_csv_rows(root / "boxes.csv"))
    assert dlib["faces"] == 18
    assert dlib["recall"] >= 0.9 and dlib["precision"] >= 0.9 and dlib["AP"] >= 0.9


def test_detection_passes_the_retinaface_options(face_data: Path, tmp_path: Path) -> None:
    root = face_data / "detection"
    images = [row for row in read_csv_rows(root / "images.csv") if row["dataset"] == "dlib_pascal_voc"]
    csv_path = paths_only_csv(tmp_path / "in.csv", images)

    def scores(*options: str) -> list[float]:
        predictions = predict("detection", csv_path, root, tmp_path / "p.jsonl", *options)
        return [box[4] for prediction in predictions for box in prediction["boxes"]]

    default = scores()
    strict = scores("--score-threshold", "0.99")
    assert min(default) < 0.99 <= min(strict) and len(strict) < len(default)
    assert len(scores("--input-size", "128", "--min-face-size", "1")) < len(default)  # 37 px faces -> 9 px


def test_identity_gives_each_person_one_id_in_csv_order(face_data: Path, tmp_path: Path) -> None:
    root = face_data / "identity"
    labels = read_csv_rows(root / "labels.csv")[:IDENTITY_ROWS]
    predictions = predict("identity", paths_only_csv(tmp_path / "in.csv", labels), root, tmp_path / "p.jsonl")
    assert [p["path"] for p in predictions] == [row["path"] for row in labels]
    first = predictions[0]
    assert (first["face_id"], first["new_face"]) == (1, True)  # a fresh gallery
    issued = [p["face_id"] for p in predictions if p["new_face"]]
    assert issued == list(range(1, len(issued) + 1))  # new IDs in CSV order
    everything = score_identity(predictions, labels)[-1]
    assert everything["pair_precision"] == 1.0  # nobody merged with somebody else
    assert everything["pair_recall"] >= 0.8


def test_verification_decides_same_and_different_pairs(face_data: Path, tmp_path: Path) -> None:
    """Pairs built from the identity labels: every same-person pair of two people, and across them."""
    root = face_data / "identity"
    labels = read_csv_rows(root / "labels.csv")
    by_person: dict[str, list[str]] = {}
    for row in labels:
        by_person.setdefault(row["person"], []).append(row["path"])
    ann, bob = [paths[:3] for paths in by_person.values() if len(paths) >= 2][:2]
    pairs = [
        *({"path_a": a, "path_b": b, "same": "1"} for a, b in itertools.combinations(ann, 2)),
        *({"path_a": a, "path_b": b, "same": "1"} for a, b in itertools.combinations(bob, 2)),
        *({"path_a": a, "path_b": b, "same": "0"} for a, b in itertools.product(ann, bob)),
    ]
    csv_path = paths_only_csv(tmp_path / "pairs.csv", pairs, ("path_a", "path_b"))
    predictions = predict("verification", csv_path, root, tmp_path / "p.jsonl")
    for prediction, pair in zip(predictions, pairs, strict=True):
        assert (prediction["path_a"], prediction["path_b"]) == (pair["path_a"], pair["path_b"])
        assert prediction["same"] == (prediction["distance"] < 0.6)
    (row,) = score_verification(predictions, pairs)
    assert row["ROC_AUC"] == 1.0
    assert row["accuracy"] >= 0.9


def test_agegender_one_line_per_image_and_backend(face_data: Path, tmp_path: Path) -> None:
    assert (MODEL_DIR / ONNX_FILE).is_file(), f"{ONNX_FILE} not in {MODEL_DIR}: run scripts/fetch_models.sh"
    root = face_data / "age_gender"
    labels = read_csv_rows(root / "labels.csv")[:AGEGENDER_ROWS]
    predictions = predict(
        "agegender",
        paths_only_csv(tmp_path / "in.csv", labels),
        root,
        tmp_path / "p.jsonl",
        "--model-dir",
        str(MODEL_DIR),
        "--backend",
        "wideresnet_onnx,dlib_onnx",
    )
    assert [(p["path"], p["backend"]) for p in predictions] == [
        (row["path"], backend) for row in labels for backend in ("wideresnet_onnx", "dlib_onnx")
    ]
    for prediction in predictions:
        assert 0.0 <= prediction["age"] <= 101.0
        assert prediction["gender"] in GENDERS
        assert 0.0 <= prediction["p_female"] <= 1.0
    rows = score_agegender(predictions, labels)
    assert {row["backend"] for row in rows} == {"wideresnet_onnx", "dlib_onnx"}
    assert all(row["no_estimate"] == 0 for row in rows)


def test_an_unreadable_image_gives_an_error_line_and_the_run_goes_on(face_data: Path, tmp_path: Path) -> None:
    root = face_data / "identity"
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    good = read_csv_rows(root / "labels.csv")[0]["path"]
    rows = [{"path": str(tmp_path / "broken.jpg")}, {"path": good}]
    predictions = predict("identity", paths_only_csv(tmp_path / "in.csv", rows), root, tmp_path / "p.jsonl")
    assert predictions[0] | {"path": None} == {
        "path": None, "face_id": None, "distance": None, "new_face": None,
        "detected": False, "box": None, "error": "unreadable image",
    }  # fmt: skip
    assert predictions[1]["face_id"] == 1


@pytest.mark.parametrize(
    ("task", "header", "message"),
    [
        ("identity", "file", "missing column(s) path"),
        ("verification", "path_a", "missing column(s) path_b"),
    ],
)
def test_a_csv_without_its_path_columns_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str, header: str, message: str
) -> None:
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(f"{header}\nx.jpg\n")
    assert main([task, "--csv", str(csv_path), "--out", str(tmp_path / "p.jsonl")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("task", "options", "message"),
    [
        ("agegender", ["--backend", "vgg"], "unknown age/gender backend 'vgg'"),
        ("detection", ["--backend", "yolo"], "unknown detector 'yolo'"),
        ("identity", ["--backend", "facenet"], "unknown descriptor backend 'facenet'"),
        ("detection", ["--backend", "haar", "--upsample", "1"], "unexpected keyword argument 'upsample'"),
        ("detection", ["--backend", "hog", "--input-size", "64"], "unexpected keyword argument 'input_size'"),
    ],
)
def test_a_bad_backend_choice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str, options: list[str], message: str
) -> None:
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("path\nx.jpg\n")
    assert main([task, "--csv", str(csv_path), "--out", str(tmp_path / "p.jsonl"), *options]) == 2
    assert message in capsys.readouterr().err
