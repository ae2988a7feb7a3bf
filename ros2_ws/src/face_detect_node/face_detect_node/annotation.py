"""Drawing a frame's faces and what the graph concluded about them, for viewers (rqt_image_view,
rviz, Foxglove) and for people checking the product's output.

Saved annotated frames show customers' faces, so they can be erased per face ID and expire. A
file's name says which faces it shows (face ID and track of each: :func:`frame_file_name`)
rather than an index file next to the frames: the name is written with the frame in one step,
so no crash can leave a frame the index does not know, and erasure and retention need nothing but
the folder's listing, for frames written by any run. The track matters because a track's first
frames, before its ID was decided, show the same person without the ID.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np
from face_common.faces import UNKNOWN_FACE_ID, Face, FrameFaces
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
    annotated_max_age_days: float = setting(
        7.0,
        "Delete written annotated frames captured over this many days ago (checked at start and "
        "hourly); 0 keeps them until erased",
        0.0,
        36_500.0,
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


_FRAME_NAME = re.compile(r"^(?P<camera>.+)_(?P<stamp_ns>\d+)(?P<faces>(?:_f(?:\d+|n)t(?:\d+|n))*)\.jpg$")
_FACE_TOKEN = re.compile(r"_f(?P<face_id>\d+|n)t(?P<track_id>\d+|n)")


def _token(number: int) -> str:
    return "n" if number < 0 else str(number)


def frame_file_name(frame_faces: FrameFaces) -> str:
    """``<camera>_<stamp_ns>`` and, per face, ``_f<face ID>t<track>`` (``n``: none), ``.jpg``.

    Camera and stamp are the frame's natural key, so replaying a source overwrites its files.
    """
    frame = frame_faces.frame
    faces = "".join(f"_f{_token(face.face_id)}t{_token(face.track_id)}" for face in frame_faces.faces)
    return f"{frame.camera_id}_{frame.stamp_ns}{faces}.jpg"


@dataclass(frozen=True)
class SavedFrame:
    """What a saved frame's name says: where it is, its camera and stamp, its (face ID, track)s."""

    path: Path
    camera_id: str
    stamp_ns: int
    faces: tuple[tuple[int, int], ...]  # UNKNOWN_FACE_ID / -1 where none


def _number(token: str) -> int:
    return -1 if token == "n" else int(token)


class AnnotatedFrameWriter:
    """Writes annotated frames as JPEG files named by :func:`frame_file_name`; erases them per face
    ID and deletes those older than ``max_age_s`` of capture time (0: none) by ``clock_ns``."""

    def __init__(
        self,
        folder: Path,
        quality: int = 90,
        max_age_s: float = 0.0,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.folder = folder
        self.quality = quality
        self.max_age_s = max_age_s
        self._clock_ns = clock_ns

    def write(self, annotated_bgr: np.ndarray, frame_faces: FrameFaces) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / frame_file_name(frame_faces)
        if not cv2.imwrite(str(path), annotated_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality]):
            raise OSError(f"OpenCV could not write {path}")
        return path

    def saved_frames(self) -> list[SavedFrame]:
        """Every frame in the folder named by this writer (other files are not its to touch)."""
        if not self.folder.is_dir():
            return []
        frames = []
        for path in self.folder.glob("*.jpg"):
            name = _FRAME_NAME.match(path.name)
            if name is not None:
                faces = tuple(
                    (_number(face["face_id"]), _number(face["track_id"]))
                    for face in _FACE_TOKEN.finditer(name["faces"])
                )
                frames.append(SavedFrame(path, name["camera"], int(name["stamp_ns"]), faces))
        return frames

    def erase_face(self, face_id: int) -> int:
        """Delete every saved frame showing ``face_id``: those naming it, and those of its tracks
        from before the ID was decided (a reused track number may take a few more frames: the
        safe side). Returns how many went."""
        frames = self.saved_frames()
        tracks = {
            (frame.camera_id, track)
            for frame in frames
            for shown, track in frame.faces
            if shown == face_id and track >= 0
        }
        removed = 0
        for frame in frames:
            if any(shown == face_id or (frame.camera_id, track) in tracks for shown, track in frame.faces):
                frame.path.unlink(missing_ok=True)
                removed += 1
        return removed

    def purge_expired(self) -> int:
        """Delete the frames captured over ``max_age_s`` ago; returns how many went."""
        if self.max_age_s <= 0:
            return 0
        cutoff_ns = self._clock_ns() - round(self.max_age_s * 1e9)
        expired = [frame for frame in self.saved_frames() if frame.stamp_ns < cutoff_ns]
        for frame in expired:
            frame.path.unlink(missing_ok=True)
        return len(expired)


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
