"""A camera-sized frame of a labelled photo, shared by the detector and node tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def frame_720p(face_data: Path) -> np.ndarray:
    """dlib's 2008_001322.jpg (3 faces) as a 1280x720 frame: scaled to 720 rows, black side bars,
    like a letterboxed camera frame; the faces become 120-170 px."""
    image = cv2.imread(str(face_data / "detection" / "dlib_faces" / "2008_001322.jpg"))
    scale = 720 / image.shape[0]
    resized = cv2.resize(image, (round(image.shape[1] * scale), 720), interpolation=cv2.INTER_LINEAR)
    pad = 1280 - resized.shape[1]
    return cv2.copyMakeBorder(resized, 0, 0, pad // 2, pad - pad // 2, cv2.BORDER_CONSTANT, value=0)
