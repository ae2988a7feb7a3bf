"""The labelled age/gender faces, detected and cropped as the graph does.

Each image goes through the detector core the graph runs (``face_detect_node``, dlib HOG) and
gets the same 40%-margin zero-padded crop; when HOG finds no face (profiles, tight chips) the
whole image is taken as the face box, so every labelled row is scored.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from agegender_node.estimators import CROP_MARGIN
from face_common.faces import Box, Face, FrameRef
from face_detect_node.detection import detect_faces
from face_detect_node.detectors import DlibHogDetector, FaceDetector


@dataclass(frozen=True)
class LabelledFace:
    path: str
    dataset: str
    gender: str
    age_min: float
    age_max: float  # inf for an open bracket (FairFace "70+")
    face: Face
    detected: bool  # False: HOG found nothing, the whole image is the face box

    def age_error(self, age: float) -> float:
        """Years outside the labelled range (a FairFace bracket; one year for UTKFace)."""
        return max(self.age_min - age, 0.0, age - self.age_max)

    @property
    def label_age(self) -> float:
        """A point age for the label: the bracket's middle, its lower end when open."""
        return self.age_min if math.isinf(self.age_max) else (self.age_min + self.age_max) / 2


class _WholeImage:
    """A detector answering the whole image, for images HOG finds no face in."""

    def detect(self, image_bgr: np.ndarray) -> list[tuple[Box, float]]:
        return [(Box(0, 0, image_bgr.shape[1], image_bgr.shape[0]), math.nan)]


def largest_face(image: np.ndarray, detector: FaceDetector) -> tuple[Face, bool]:
    """The largest face ``detector`` finds, else the whole image; and whether one was found."""
    frame = FrameRef("test", 0)
    found = detect_faces(image, detector, frame, CROP_MARGIN).faces
    if found:
        return max(found, key=lambda f: f.box.w * f.box.h), True
    return detect_faces(image, _WholeImage(), frame, CROP_MARGIN).faces[0], False


def read_labelled_faces(root: Path) -> list[LabelledFace]:
    """Every row of ``root/labels.csv`` with its face found and cropped."""
    with (root / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    # upsample 0: the labelled faces are large, and on them it misses fewer than upsample 1.
    detector = DlibHogDetector(upsample=0)  # built once: loading dlib's HOG model takes ~0.5 s
    faces = []
    for row in rows:
        image = cv2.imread(str(root / row["path"]))
        if image is None:
            raise FileNotFoundError(f"cannot read {root / row['path']}")
        face, detected = largest_face(image, detector)
        faces.append(
            LabelledFace(
                path=row["path"],
                dataset=row["dataset"],
                gender=row["gender"],
                age_min=float(row["age_min"]),
                age_max=float(row["age_max"]) if row["age_max"] else math.inf,
                face=face,
                detected=detected,
            )
        )
    return faces
