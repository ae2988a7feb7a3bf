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

Backend ``dlib_resnet_onnx``: the same network and weights, as face-api.js ported them
(uint8-quantised), converted to ONNX at set-up (:mod:`identity_node.model_files`,
``scripts/fetch_models.sh``) and run by onnxruntime on the same 5-point chips: about 6 ms per face on
one core. Its distances are within about 0.01 of dlib's for the same pair of faces, so the
gallery's 0.6 threshold holds; its vectors are about 0.04 from dlib's for the same face, so it is
a backend of its own (a gallery filled by one is refused by the other).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import cv2
import dlib
import face_recognition_models
import numpy as np
from face_common.faces import Box

DESCRIPTOR_SIZE = 128
#: Where ``scripts/fetch_models.sh`` puts model files (relative to the working directory).
DEFAULT_MODEL_DIR = Path("models")

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


class DlibChipper:
    """dlib's aligned face chip: 5-point landmarks in the face box, 150x150 RGB, 25% padding."""

    def __init__(self) -> None:
        self._landmarks = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )

    def chip(self, crop_bgr: np.ndarray, box_in_crop: Box) -> np.ndarray:
        check_face_input(crop_bgr, box_in_crop)
        rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)  # dlib models were trained on RGB
        shape = self._landmarks(rgb, _dlib_rectangle(box_in_crop))
        return dlib.get_face_chip(rgb, shape, DLIB_CHIP_SIZE, DLIB_CHIP_PADDING)


class DlibResNetDescriptor(FaceDescriptor):
    """dlib ResNet descriptor on 5-point-aligned 150x150 chips (see the module docstring).

    ``num_jitters`` > 0 averages the descriptor over that many randomly jittered copies of the
    chip: slightly more robust, ``num_jitters`` times slower, and no longer deterministic.
    """

    name = "dlib_resnet"

    def __init__(self, num_jitters: int = 0, model_dir: Path | None = None) -> None:
        """``model_dir`` is not used: dlib's models come with the ``face-recognition-models`` wheel."""
        if num_jitters < 0:
            raise ValueError(f"num_jitters must be >= 0, got {num_jitters}")
        self._chips = DlibChipper()
        self._network = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )
        self._num_jitters = num_jitters

    def describe_many(self, faces: Sequence[FaceInput]) -> np.ndarray:
        if not faces:
            return np.empty((0, DESCRIPTOR_SIZE), dtype=np.float32)
        chips = [self._chips.chip(crop_bgr, box_in_crop) for crop_bgr, box_in_crop in faces]
        vectors = self._network.compute_face_descriptor(chips, self._num_jitters)
        return np.array([np.asarray(v) for v in vectors], dtype=np.float32)


class DlibResNetOnnxDescriptor(FaceDescriptor):
    """dlib's ResNet (face-api.js's uint8-quantised port) in onnxruntime, on dlib's 5-point chips.

    The ONNX file is made at set-up by ``scripts/fetch_models.sh`` (:mod:`identity_node.model_files`);
    nothing is downloaded here. ``num_threads`` is onnxruntime's intra-op thread count.
    """

    name = "dlib_resnet_onnx"

    def __init__(self, num_jitters: int = 0, model_dir: Path | None = None, num_threads: int = 1) -> None:
        import onnxruntime

        from identity_node.model_files import INPUT_MEAN_RGB, INPUT_SCALE, ONNX_FILE

        if num_jitters != 0:
            raise ValueError(f"num_jitters must be 0 for {self.name} (no jittering), got {num_jitters}")
        path = (DEFAULT_MODEL_DIR if model_dir is None else Path(model_dir)) / ONNX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run scripts/fetch_models.sh first")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime's errors (InvalidProtobuf...) derive from Exception only
            raise ValueError(f"cannot load model {path}: {err}") from None
        self._session = session
        self._mean = np.array(INPUT_MEAN_RGB, np.float32)
        self._scale = np.float32(INPUT_SCALE)
        self._chips = DlibChipper()

    def describe_many(self, faces: Sequence[FaceInput]) -> np.ndarray:
        if not faces:
            return np.empty((0, DESCRIPTOR_SIZE), dtype=np.float32)
        chips = np.stack([self._chips.chip(crop_bgr, box_in_crop) for crop_bgr, box_in_crop in faces])
        batch = ((chips.astype(np.float32) - self._mean) / self._scale).transpose(0, 3, 1, 2)
        (vectors,) = self._session.run(None, {"input": np.ascontiguousarray(batch)})
        return vectors.astype(np.float32, copy=False)


DESCRIPTOR_BACKENDS: dict[str, type[FaceDescriptor]] = {
    DlibResNetDescriptor.name: DlibResNetDescriptor,
    DlibResNetOnnxDescriptor.name: DlibResNetOnnxDescriptor,
}


DEFAULT_DESCRIPTOR_BACKEND = "dlib_resnet_onnx"
"""dlib's ResNet in onnxruntime: the same network and accuracy as ``dlib_resnet`` on our
evaluation (docs/evaluation.md) at ~1/10 of the cost per face (6-8 ms against 78-80 ms on one
core), which was what limited the graph's speed. Its vectors are ~0.04 from dlib-bin's for the
same face, so a gallery stays with the backend that filled it."""


def make_descriptor(backend: str, num_jitters: int = 0, model_dir: Path | None = None) -> FaceDescriptor:
    """Build the descriptor backend called ``backend`` (see :data:`DESCRIPTOR_BACKENDS`).

    ``model_dir``: where set-up put model files (default ``models``); backends whose model comes
    in a wheel ignore it.
    """
    if backend not in DESCRIPTOR_BACKENDS:
        raise ValueError(
            f"unknown descriptor backend {backend!r}; choose one of {sorted(DESCRIPTOR_BACKENDS)}"
        )
    return DESCRIPTOR_BACKENDS[backend](num_jitters=num_jitters, model_dir=model_dir)
