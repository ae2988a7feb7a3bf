"""ROS-free records that travel through the graph: one frame's faces and one face event.

Every stage (detection, identity, age/gender, sink) fills in part of a :class:`Face`; the
frame's :class:`FrameRef` (camera id + capture stamp) travels with it so that results join to
frames, cameras and time. Offline processing and the ROS nodes use exactly these records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

UNKNOWN_FACE_ID = -1
GENDERS = ("female", "male")


@dataclass(frozen=True)
class FrameRef:
    """Which frame a result belongs to: the camera id (ROS ``frame_id``) and capture stamp."""

    camera_id: str
    stamp_ns: int

    @property
    def stamp_s(self) -> float:
        return self.stamp_ns / 1e9


@dataclass(frozen=True)
class Box:
    """Axis-aligned pixel box in full-frame coordinates."""

    x: int
    y: int
    w: int
    h: int

    def expanded(self, margin: float) -> Box:
        """The box grown by ``margin`` of its size on every side (may leave the frame)."""
        dx, dy = round(self.w * margin), round(self.h * margin)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def scaled(self, factor: float) -> Box:
        return Box(
            round(self.x * factor), round(self.y * factor), round(self.w * factor), round(self.h * factor)
        )

    def clipped_to(self, width: int, height: int) -> Box | None:
        """The part of the box inside a ``width`` x ``height`` image; None when nothing is."""
        left, top = max(0, self.x), max(0, self.y)
        right, bottom = min(width, self.x + self.w), min(height, self.y + self.h)
        return Box(left, top, right - left, bottom - top) if right > left and bottom > top else None

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass
class Face:
    """One face in one frame, filled in stage by stage.

    ``crop`` is a BGR image of ``crop_box`` (the face box plus a margin); parts of ``crop_box``
    outside the frame are zero-padded, never clipped, because the age/gender model was trained
    on margins that way.
    """

    index: int
    box: Box
    score: float
    crop: np.ndarray | None = None
    crop_box: Box | None = None
    track_id: int = -1
    face_id: int = UNKNOWN_FACE_ID
    distance: float = math.nan
    new_face: bool = False
    age: float = math.nan
    gender: str = ""
    p_female: float = math.nan

    def box_in_crop(self) -> Box:
        """The face box in the crop's pixel coordinates."""
        if self.crop_box is None:
            raise ValueError("face has no crop")
        return Box(self.box.x - self.crop_box.x, self.box.y - self.crop_box.y, self.box.w, self.box.h)


@dataclass
class FrameFaces:
    """All faces found in one frame (possibly none)."""

    frame: FrameRef
    faces: list[Face] = field(default_factory=list)


@dataclass(frozen=True)
class FaceEvent:
    """One row of the product's output: who (anonymous id) was seen where and when.

    The natural key ``(camera_id, stamp_ns, face_index)`` makes writes idempotent: replaying
    the same frames produces the same keys.
    """

    camera_id: str
    stamp_ns: int
    face_index: int
    face_id: int
    age: float
    gender: str
    box: Box
    distance: float
    new_face: bool

    @classmethod
    def from_face(cls, frame: FrameRef, face: Face) -> FaceEvent:
        return cls(
            camera_id=frame.camera_id,
            stamp_ns=frame.stamp_ns,
            face_index=face.index,
            face_id=face.face_id,
            age=face.age,
            gender=face.gender,
            box=face.box,
            distance=face.distance,
            new_face=face.new_face,
        )

    def as_dict(self) -> dict:
        """JSON-ready form (NaN becomes None), used by the events topic and logs."""

        def finite(v: float) -> float | None:
            return None if math.isnan(v) else float(v)

        return {
            "camera_id": self.camera_id,
            "stamp_ns": self.stamp_ns,
            "face_index": self.face_index,
            "face_id": self.face_id,
            "age": finite(self.age),
            "gender": self.gender or None,
            "box": self.box.as_list(),
            "distance": finite(self.distance),
            "new_face": self.new_face,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FaceEvent:
        return cls(
            camera_id=str(d["camera_id"]),
            stamp_ns=int(d["stamp_ns"]),
            face_index=int(d["face_index"]),
            face_id=int(d["face_id"]),
            age=math.nan if d.get("age") is None else float(d["age"]),
            gender=d.get("gender") or "",
            box=Box(*(int(v) for v in d["box"])),
            distance=math.nan if d.get("distance") is None else float(d["distance"]),
            new_face=bool(d["new_face"]),
        )
