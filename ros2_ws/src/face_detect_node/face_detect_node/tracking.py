"""Frame-to-frame face tracks for one camera, by box overlap.

A customer at the till stays in view for many frames; a track id says "the same face as in the
last frames" so that the identity stage need not describe the face again in every frame (the
descriptor is the graph's most expensive step per face). Overlap tracking is enough for that:
faces move little between frames at 2–12 fps, and identity re-describes a track regularly, so a
wrong association is corrected within a few frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from face_common.faces import Box, FrameFaces

from face_detect_node.matching import match_greedy

DEFAULT_MIN_IOU = 0.3
DEFAULT_MAX_MISSED = 6


@dataclass
class _Track:
    box: Box
    missed: int = 0


class IouTracker:
    """Gives each face the id of the live track it overlaps best, or a new id.

    A track that matches no face for more than ``max_missed`` frames ends; ids are never reused
    within one tracker.
    """

    def __init__(self, min_iou: float = DEFAULT_MIN_IOU, max_missed: int = DEFAULT_MAX_MISSED) -> None:
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must be in (0, 1], got {min_iou}")
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1

    def track(self, frame_faces: FrameFaces) -> list[str]:
        """Set ``track_id`` of every face of the frame in place (a stage: nothing is skipped)."""
        ids = list(self._tracks)
        pairs = match_greedy(
            [f.box for f in frame_faces.faces], [self._tracks[i].box for i in ids], self.min_iou
        )
        matched = {face: ids[track] for face, track in pairs}
        for index, face in enumerate(frame_faces.faces):
            if index in matched:
                face.track_id = matched[index]
                self._tracks[face.track_id] = _Track(face.box)
            else:
                face.track_id = self._next_id
                self._tracks[self._next_id] = _Track(face.box)
                self._next_id += 1
        seen = {face.track_id for face in frame_faces.faces}
        for track_id in [i for i in ids if i not in seen]:
            self._tracks[track_id].missed += 1
            if self._tracks[track_id].missed > self.max_missed:
                del self._tracks[track_id]
        return []
