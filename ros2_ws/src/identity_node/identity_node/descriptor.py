"""Face descriptors: a face crop in, a 128-D vector out, compared by Euclidean distance.

The gallery only sees vectors, so the model sits behind :class:`FaceDescriptor` and a backend is
chosen by name (:func:`make_descriptor`). Vectors of different backends are not comparable; the
gallery records which backend filled it and refuses another.

Backend ``dlib_resnet``: dlib's ResNet face recognition model
(``dlib_face_recognition_resnet_model_v1.dat``, 99.38% on LFW) on a face chip aligned with
dlib's **5-point** landmark model (``shape_predictor_5_face_landmarks.dat``, CC0), both from the
``face-recognition-models`` wheel and run by ``dlib-bin``. The 68-point landmark model in the same
wheel is deliberately not used: its training data (iBUG 300-W) is licensed for non-commercial use
only. ``dlib-bin`` is built without BLAS: about 80-120 ms per face on one core, and the call holds
the GIL, so the descriptor runs in the identity node's own process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import cv2
import dlib
import face_recognition_models
import numpy as np
from face_common.faces import Box

DESCRIPTOR_SIZE = 128

#: dlib's face chip geometry for its ResNet model (150x150, 25% padding around the landmarks).
DLIB_CHIP_SIZE = 150
DLIB_CHIP_PADDING = 0.25

FaceInput = tuple[np.ndarray, Box]
"""A BGR crop (H x W x 3, uint8) and the face box in the crop's pixel coordinates."""


def check_face_input(crop_bgr: np.ndarray, box_in_crop: Box) -> None:
    """Raise ``ValueError`` saying what is wrong with a crop/box pair, before any model sees it."""
    if not isinstance(crop_bgr, np.ndarray) or crop_bgr.dtype != np.uint8:
        raise ValueError(f"crop must be a uint8 array, got {getattr(crop_bgr, 'dtype', type(crop_bgr))}")
    if crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3:
        raise ValueError(f"crop must be H x W x 3 (BGR), got shape {crop_bgr.shape}")
    height, width = crop_bgr.shape[:2]
    if box_in_crop.w <= 0 or box_in_crop.h <= 0:
        raise ValueError(f"empty face box {box_in_crop}")
    inside_w = min(box_in_crop.x + box_in_crop.w, width) - max(box_in_crop.x, 0)
    inside_h = min(box_in_crop.y + box_in_crop.h, height) - max(box_in_crop.y, 0)
    if inside_w <= 0 or inside_h <= 0:
        raise ValueError(f"face box {box_in_crop} lies outside the {width}x{height} crop")


class FaceDescriptor(ABC):
    """Maps faces to vectors whose Euclidean distance is small for the same person."""

    #: Name under which galleries record this backend's vectors.
    name: str

    @abstractmethod
    def describe_many(self, faces: Sequence[FaceInput]) -> np.ndarray:
        """Descriptors of several faces in one model call: ``(len(faces), 128)`` float32."""

    def describe(self, crop_bgr: np.ndarray, box_in_crop: Box) -> np.ndarray:
        """Descriptor of one face: ``(128,)`` float32."""
        return self.describe_many([(crop_bgr, box_in_crop)])[0]


def _dlib_rectangle(box: Box) -> dlib.rectangle:
    """dlib rectangles are inclusive on both ends."""
    return dlib.rectangle(box.x, box.y, box.x + box.w - 1, box.y + box.h - 1)


class DlibResNetDescriptor(FaceDescriptor):
    """dlib ResNet descriptor on 5-point-aligned 150x150 chips (see the module docstring).

    ``num_jitters`` > 0 averages the descriptor over that many randomly jittered copies of the
    chip: slightly more robust, ``num_jitters`` times slower, and no longer deterministic.
    """

    name = "dlib_resnet"

    def __init__(self, num_jitters: int = 0) -> None:
        if num_jitters < 0:
            raise ValueError(f"num_jitters must be >= 0, got {num_jitters}")
        self._landmarks = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )
        self._network = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )
        self._num_jitters = num_jitters

    def describe_many(self, faces: Sequence[FaceInput]) -> np.ndarray:
        if not faces:
            return np.empty((0, DESCRIPTOR_SIZE), dtype=np.float32)
        chips = []
        for crop_bgr, box_in_crop in faces:
            check_face_input(crop_bgr, box_in_crop)
            rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)  # dlib models were trained on RGB
            shape = self._landmarks(rgb, _dlib_rectangle(box_in_crop))
            chips.append(dlib.get_face_chip(rgb, shape, DLIB_CHIP_SIZE, DLIB_CHIP_PADDING))
        vectors = self._network.compute_face_descriptor(chips, self._num_jitters)
        return np.array([np.asarray(v) for v in vectors], dtype=np.float32)


DESCRIPTOR_BACKENDS: dict[str, type[FaceDescriptor]] = {DlibResNetDescriptor.name: DlibResNetDescriptor}


def make_descriptor(backend: str, num_jitters: int = 0) -> FaceDescriptor:
    """Build the descriptor backend called ``backend`` (see :data:`DESCRIPTOR_BACKENDS`)."""
    if backend not in DESCRIPTOR_BACKENDS:
        raise ValueError(
            f"unknown descriptor backend {backend!r}; choose one of {sorted(DESCRIPTOR_BACKENDS)}"
        )
    return DESCRIPTOR_BACKENDS[backend](num_jitters=num_jitters)
