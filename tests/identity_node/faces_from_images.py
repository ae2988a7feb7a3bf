"""Real faces from image files, found with the detection node's own core (dlib HOG), for the
identity tests."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
from face_common.faces import Face, FrameFaces, FrameRef
from face_detect_node.detection import detect_faces
from face_detect_node.detectors import make_detector

#: Big photos are searched at this longest side (HOG with one upsample still finds ~40 px faces).
DETECT_MAX_SIDE = 800


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def detect_image_faces(path: Path, camera_id: str = "test", stamp_ns: int = 0) -> FrameFaces:
    """All HOG faces of one image file, with 40% zero-padded crops, as the detection node makes them."""
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    scale = min(1.0, DETECT_MAX_SIDE / max(image.shape[:2]))
    return detect_faces(image, make_detector("hog", detect_scale=scale), FrameRef(camera_id, stamp_ns))


def largest_face_frame(path: Path, camera_id: str = "test", stamp_ns: int = 0) -> FrameFaces:
    """The image as a frame holding only its largest face (single-person photos have bystanders)."""
    frame = detect_image_faces(path, camera_id, stamp_ns)
    assert frame.faces, f"no face found in {path}"
    largest: Face = max(frame.faces, key=lambda face: face.box.w * face.box.h)
    largest.index = 0
    return FrameFaces(frame.frame, [largest])
