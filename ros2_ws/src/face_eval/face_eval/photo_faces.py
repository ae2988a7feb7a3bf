"""The one face of a labelled photo, found and cropped by the detection node's own core.

Labelled identity and age/gender photos show one person, sometimes with bystanders, and some are
already tight face chips. Taking the largest detection picks the subject without looking at the
labels; when the detector finds nothing (tight chips, profiles), the whole image is taken as the
face box so that every labelled row still gets a prediction, flagged ``detected=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from face_common.faces import Box, Face, FrameRef
from face_detect_node.detection import DEFAULT_CROP_MARGIN, detect_faces
from face_detect_node.detectors import DEFAULT_MIN_FACE_SIZE, ScaledDetector, make_detector

#: Large photos are searched at this longest side: the subject's face stays well above the
#: detectors' limits, and a 1080p photo costs what an 800 px one does.
DEFAULT_MAX_SIDE = 800

_PHOTO = FrameRef("photo", 0)


class _WholeImage:
    """A detector answering the whole image: the fallback face box."""

    def detect(self, image_bgr: np.ndarray) -> list[tuple[Box, float]]:
        return [(Box(0, 0, image_bgr.shape[1], image_bgr.shape[0]), math.nan)]


@dataclass(frozen=True)
class PhotoFace:
    face: Face
    detected: bool  # False: no detection, the whole image is the face box


class PhotoFaceFinder:
    """Finds the largest face of a photo with a detector backend built once."""

    def __init__(
        self,
        detector: str = "hog",
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        crop_margin: float = DEFAULT_CROP_MARGIN,
        **backend_options: float | int | str,
    ) -> None:
        self._backend = make_detector(detector, min_face_size=min_face_size, **backend_options).backend
        self._max_side = max_side
        self._min_face_size = min_face_size
        self._crop_margin = crop_margin

    def largest_face(self, image_bgr: np.ndarray, whole_image_fallback: bool = True) -> PhotoFace | None:
        """The photo's largest face with its margin crop; the whole image (or None) if none is found."""
        scale = min(1.0, self._max_side / max(image_bgr.shape[:2]))
        detector = ScaledDetector(self._backend, scale, self._min_face_size)
        found = detect_faces(image_bgr, detector, _PHOTO, self._crop_margin).faces
        if found:
            largest = max(found, key=lambda face: face.box.w * face.box.h)
            largest.index = 0
            return PhotoFace(largest, detected=True)
        if not whole_image_fallback:
            return None
        (whole,) = detect_faces(image_bgr, _WholeImage(), _PHOTO, self._crop_margin).faces
        return PhotoFace(whole, detected=False)
