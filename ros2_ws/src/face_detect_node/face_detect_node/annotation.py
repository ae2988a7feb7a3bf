"""Drawing a frame's faces and what the graph concluded about them, for viewers (rqt_image_view,
rviz, Foxglove) and for people checking the product's output."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np
from face_common.faces import UNKNOWN_FACE_ID, Face, FrameFaces, FrameRef
from face_common.settings import setting

BOX_COLOR = (0, 200, 0)  # BGR
TEXT_COLOR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class AnnotatorSettings:
    """How ``face_annotator`` pairs frames with their faces, and whether it keeps them."""

    max_wait_s: float = setting(
        2.0,
        "How long (capture time) a frame waits for its faces before it is dropped; frames are held "
        "raw, so this bounds memory (2 s of 720p at 12 fps: ~66 MB)",
        0.1,
        30.0,
    )
    annotated_dir: str = setting(
        "", "Also write each annotated frame as a JPEG into this folder ('' = none: frames show faces)"
    )


def face_label(face: Face) -> str:
    """What is known about a face so far: anonymous id, age, gender; never a name."""
    parts = []
    if face.face_id != UNKNOWN_FACE_ID:
        parts.append(f"id {face.face_id}")
    if not math.isnan(face.age):
        parts.append(f"{face.age:.0f}y")
    if face.gender:
        parts.append(face.gender)
    return " ".join(parts)


def annotate(image_bgr: np.ndarray, frame_faces: FrameFaces) -> np.ndarray:
    """A copy of the frame with each face's box and, when known, its label drawn on it."""
    out = image_bgr.copy()
    thickness = max(1, round(min(out.shape[:2]) / 360))
    for face in frame_faces.faces:
        b = face.box
        cv2.rectangle(out, (b.x, b.y), (b.x + b.w - 1, b.y + b.h - 1), BOX_COLOR, thickness)
        label = face_label(face)
        if not label:
            continue
        (tw, th), baseline = cv2.getTextSize(label, FONT, 0.5, 1)
        # Above the box when there is room, else just inside its top edge.
        y_text = b.y - baseline - 2 if b.y - th - baseline - 2 >= 0 else b.y + th + 2
        cv2.rectangle(out, (b.x, y_text - th - 2), (b.x + tw + 2, y_text + baseline), BOX_COLOR, cv2.FILLED)
        cv2.putText(out, label, (b.x + 1, y_text), FONT, 0.5, TEXT_COLOR, 1, cv2.LINE_AA)
    return out


class AnnotatedFrameWriter:
    """Writes annotated frames as JPEG files named by camera and capture stamp.

    The name is the frame's natural key, so replaying a source overwrites instead of adding.
    """

    def __init__(self, folder: Path, quality: int = 90) -> None:
        self.folder = folder
        self.quality = quality

    def write(self, annotated_bgr: np.ndarray, frame: FrameRef) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{frame.camera_id}_{frame.stamp_ns}.jpg"
        if not cv2.imwrite(str(path), annotated_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality]):
            raise OSError(f"OpenCV could not write {path}")
        return path


Pending = TypeVar("Pending")
Partner = TypeVar("Partner")


class StampPairer(Generic[Pending, Partner]):
    """Pairs two streams of one camera by capture stamp: frames and their (later) conclusions.

    Identity and age/gender finish a frame's faces a few hundred ms after the camera published
    it, so frames wait here for their faces (and, should faces win the race, faces wait for their
    frame). Whatever waited longer than ``max_wait_ns`` of capture time is dropped and counted:
    a frame whose faces never come (the graph dropped it) must not pile up.
    """

    def __init__(self, max_wait_ns: int) -> None:
        self.max_wait_ns = max_wait_ns
        self._frames: OrderedDict[int, Pending] = OrderedDict()
        self._faces: OrderedDict[int, Partner] = OrderedDict()
        self.unpaired = 0

    def add_frame(self, stamp_ns: int, frame: Pending) -> Partner | None:
        """Keep ``frame``; its faces when they are already here (then the pair is done)."""
        return self._add(stamp_ns, frame, self._frames, self._faces)

    def add_faces(self, stamp_ns: int, faces: Partner) -> Pending | None:
        """Keep ``faces``; their frame when it is already here (then the pair is done)."""
        return self._add(stamp_ns, faces, self._faces, self._frames)

    def _add(self, stamp_ns: int, item: object, waiting: OrderedDict, partners: OrderedDict) -> object | None:
        if stamp_ns in partners:
            return partners.pop(stamp_ns)
        waiting[stamp_ns] = item
        self._expire(stamp_ns)
        return None

    def _expire(self, now_ns: int) -> None:
        for waiting in (self._frames, self._faces):
            for stamp in [s for s in waiting if s < now_ns - self.max_wait_ns]:
                del waiting[stamp]
                self.unpaired += 1
