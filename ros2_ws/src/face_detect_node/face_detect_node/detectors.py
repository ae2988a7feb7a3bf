"""Face detectors behind one small interface, so a backend is swapped by a parameter.

Every detector answers ``(box, score)`` pairs in the pixels of the image it was given.
:func:`make_detector` wraps the chosen backend in :class:`ScaledDetector`, which is where the
frame-level policy lives (detect on a downscaled frame, report full-resolution boxes, drop faces
under ``min_face_size``), so no backend repeats it.

Backends (all models ship in PyPI wheels; nothing is downloaded at run time):

- ``haar``: OpenCV's frontal-face Haar cascade (the seed's detector), from ``cv2.data``.
- ``hog``: dlib's HOG + linear SVM frontal detector (``dlib-bin``).
- ``cnn``: dlib's MMOD CNN detector, ``mmod_human_face_detector.dat`` from
  ``face-recognition-models``. The most accurate of the three, and by far the slowest on CPU.

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
from face_common.faces import Box

Detection = tuple[Box, float]

#: The Haar cascade's own 24x24 window: nothing smaller is found without upscaling, and the
#: dlib example faces (37 px) stay in range.
DEFAULT_MIN_FACE_SIZE = 24


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


DETECTORS = {"haar": HaarDetector, "hog": DlibHogDetector, "cnn": DlibCnnDetector}


def make_detector(
    name: str,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    detect_scale: float = 1.0,
    **backend_options: float | int | str,
) -> ScaledDetector:
    """Build detector ``name`` (``haar``, ``hog`` or ``cnn``) with the frame-level policy.

    ``backend_options`` go to the backend's constructor (e.g. ``upsample=2`` for ``hog``,
    ``min_neighbors=3`` for ``haar``); an option the backend lacks raises ``TypeError``.
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
    if name == "haar":
        # The cascade skips windows under the limit itself, which is most of its cost; the
        # limit is in the pixels it sees, so shrink it with the frame (floor: 1 px).
        backend_options.setdefault("min_face_size", max(1, math.floor(min_face_size * detect_scale)))
    return ScaledDetector(DETECTORS[name](**backend_options), detect_scale, min_face_size)
