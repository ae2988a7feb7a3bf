"""Optional archive of face crops, one folder per face ID (off by default: crops are personal data).

The seed kept the first crop of each new ID and every later occurrence, which lets a person review
what the gallery grouped under an ID. File names derive from the event's natural key, so a
replayed frame overwrites its own crop instead of adding a copy, and erasing a face is removing
its folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
from face_common.faces import UNKNOWN_FACE_ID, Face, FrameRef

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


class CropArchive:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def face_dir(self, face_id: int) -> Path:
        return self.root / f"face_{face_id}"

    def path_for(self, frame: FrameRef, face: Face) -> Path:
        camera = _UNSAFE_FILENAME_CHARS.sub("_", frame.camera_id)
        return self.face_dir(face.face_id) / f"{camera}_{frame.stamp_ns}_{face.index}.jpg"

    def save(self, frame: FrameRef, face: Face) -> Path | None:
        """Write the face's crop; None when there is nothing to file (no ID or no crop)."""
        if face.face_id == UNKNOWN_FACE_ID or face.crop is None or face.crop.size == 0:
            return None
        path = self.path_for(frame, face)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), face.crop):
            raise OSError(f"could not write crop {path}")
        return path

    def erase_face(self, face_id: int) -> int:
        """Remove every crop of one face ID; returns how many files went."""
        folder = self.face_dir(face_id)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.iterdir() if p.is_file())
        shutil.rmtree(folder)
        return count
