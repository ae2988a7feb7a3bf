"""Optional archive of face crops, one folder per face ID (off by default: crops are personal data).

The seed kept the first crop of each new ID and every later occurrence, which lets a person review
what the gallery grouped under an ID. File names derive from the event's natural key, so a
replayed frame overwrites its own crop instead of adding a copy, and erasing a face is removing
its folder.

Crops are kept for ``max_age_s`` of capture time (the stamp in the name, as the events' retention
counts it), 30 days unless told: the archive purges older ones when it opens and then at most
hourly as it writes, so a running sink needs no timer of its own for it.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
from face_common.faces import UNKNOWN_FACE_ID, Face, FrameRef

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_CROP_NAME = re.compile(r"_(?P<stamp_ns>\d+)_\d+\.jpg$")
"""``<camera>_<stamp_ns>_<face index>.jpg``: read from the right, so a camera id may hold ``_``."""

DEFAULT_MAX_AGE_S = 30 * 86_400.0
"""Long enough to review a month's IDs, short enough that crops do not pile up unseen."""
RETENTION_CHECK_PERIOD_S = 3_600.0


class CropArchive:
    def __init__(
        self,
        root: str | Path,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``max_age_s`` 0 keeps crops until erased; ``clock_ns`` is the wall clock (tests fake it)."""
        if max_age_s < 0:
            raise ValueError(f"maximum crop age must be >= 0 s, got {max_age_s}")
        self.root = Path(root)
        self.max_age_s = max_age_s
        self._clock_ns = clock_ns
        self._next_check_ns = clock_ns()
        self._purge_if_due()

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
        self._purge_if_due()
        return path

    def erase_face(self, face_id: int) -> int:
        """Remove every crop of one face ID; returns how many files went."""
        folder = self.face_dir(face_id)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.iterdir() if p.is_file())
        shutil.rmtree(folder)
        return count

    def purge_expired(self) -> int:
        """Remove the crops captured over ``max_age_s`` ago (and folders left empty); returns how
        many files went. Files not named by this archive are left alone."""
        if self.max_age_s <= 0 or not self.root.is_dir():
            return 0
        cutoff_ns = self._clock_ns() - round(self.max_age_s * 1e9)
        removed = 0
        for folder in self.root.glob("face_*"):
            for path in folder.glob("*.jpg"):
                name = _CROP_NAME.search(path.name)
                if name is not None and int(name["stamp_ns"]) < cutoff_ns:
                    path.unlink(missing_ok=True)
                    removed += 1
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return removed

    def _purge_if_due(self) -> None:
        now_ns = self._clock_ns()
        if now_ns >= self._next_check_ns:
            self._next_check_ns = now_ns + round(RETENTION_CHECK_PERIOD_S * 1e9)
            self.purge_expired()
