"""Face tracks for one camera: ids that say "the same face as in the last frames".

A customer at the till stays in view for many frames; a track id lets the identity stage skip
describing the face again in every frame (the descriptor is the graph's most expensive step per
face). The DNN detector is also too slow for every frame of a 12 fps camera, so it runs only on
every few frames and :class:`FaceTracker` carries each face's box through the frames in between
(:meth:`FaceTracker.carry`), then re-associates on the next detection (:meth:`FaceTracker.update`).

:class:`FaceTracker` is ByteTrack (Roboflow ``trackers``; supervision dropped ``sv.ByteTrack``):
Kalman-predicted boxes matched to detections by optimal (Hungarian) IoU assignment. On
``bench/bench_tracking.py``'s synthetic scenes it kept one id per face up to detection on every
4th frame, where the earlier greedy-overlap tracker swapped ids of crossing faces and split
walking ones (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import supervision as sv
from face_common.faces import Box
from face_common.geometry import match_greedy
from trackers import ByteTrackTracker

if TYPE_CHECKING:
    from face_detect_node.detectors import Detection

#: Every detection the detector reports may start a track: the backends' scores are not on one
#: scale (SVM margins, Haar stage weights, probabilities), and each backend already dropped what
#: it does not believe. Set it (e.g. 0.6 for RetinaFace run at a lower detector threshold) to use
#: ByteTrack's second stage: weaker detections then only continue existing tracks.
DEFAULT_MIN_TRACK_SCORE = -math.inf
#: How long a track that lost its face is kept for re-association (occlusion, a turned head).
DEFAULT_LOST_TRACK_S = 1.0
#: IoU between a track's predicted box and a detection that continues the track. ByteTrack's
#: own 0.1: a new track has no speed yet, and at 0.2 a face walking 15 px/frame with detection on
#: every 4th frame started a new track at its second detection (bench/bench_tracking.py).
DEFAULT_MATCH_IOU = 0.1


@dataclass(frozen=True)
class TrackedFace:
    """One face of a frame with its track: ``detected`` is false on frames the detector skipped,
    where ``box`` is the track's prediction and ``score`` its last detection's."""

    track_id: int
    box: Box
    score: float
    detected: bool


def _xyxy(box: Box) -> list[float]:
    return [box.x, box.y, box.x + box.w, box.y + box.h]


def _box(xyxy: np.ndarray) -> Box:
    x1, y1, x2, y2 = (round(float(v)) for v in xyxy)
    return Box(x1, y1, x2 - x1, y2 - y1)


class FaceTracker:
    """ByteTrack over face detections that arrive on some frames only.

    Call :meth:`update` on each frame the detector ran and :meth:`carry` on each frame it
    skipped, one call per camera frame: the call count is the tracker's clock, so the Kalman
    filter extrapolates over the skipped frames and a lost track ends after ``lost_track_s``
    whatever the detection cadence. Ids start at 1 per tracker and are never reused; a new face
    gets its id on its first detection (ByteTrack would wait for a second one) because identity
    wants ids at once and drops one-frame false detections itself.
    """

    def __init__(
        self,
        frame_rate: float,
        min_track_score: float = DEFAULT_MIN_TRACK_SCORE,
        lost_track_s: float = DEFAULT_LOST_TRACK_S,
        match_iou: float = DEFAULT_MATCH_IOU,
    ) -> None:
        if not 0.0 < match_iou <= 1.0:
            raise ValueError(f"match_iou must be in (0, 1], got {match_iou}")
        if lost_track_s < 0:
            raise ValueError(f"lost_track_s must be >= 0, got {lost_track_s}")
        self.frame_rate = frame_rate
        self.min_track_score = min_track_score
        # ByteTrack counts the lost-track buffer in 30 fps frames; with timestamps it is
        # lost_track_buffer / 30 seconds, whatever frame_rate says.
        self._new_bytetrack = partial(
            ByteTrackTracker,
            lost_track_buffer=round(lost_track_s * 30),
            frame_rate=frame_rate,
            track_activation_threshold=min_track_score,
            high_conf_det_threshold=min_track_score,
            minimum_consecutive_frames=1,
            minimum_iou_threshold=match_iou,
        )
        self._bytetrack = self._new_bytetrack()
        self._frame = 0
        self._detected_frame = 0
        self._next_id = 1
        self._scores: dict[int, float] = {}

    def end_all_tracks(self) -> None:
        """End every track now (the scene changed: no face of it continues); ids stay unique."""
        self._bytetrack = self._new_bytetrack()
        self._scores.clear()

    def update(self, detections: Sequence[Detection]) -> list[TrackedFace]:
        """Track this frame's detections; returns their tracks in the order given.

        A detection under ``min_track_score`` that continues no track is left out.
        """
        return [face for _, face in self._update(detections)]

    def carry(self) -> list[TrackedFace]:
        """The faces of the last detection, at their predicted place in this (undetected) frame.

        Tracks that the last detection missed are not shown: they may be occluded, and a box
        with no face in it would be described and counted downstream.
        """
        self._frame += 1
        ahead = self._frame - self._detected_frame
        carried = []
        for track in self._bytetrack.tracks:
            if track.time_since_update != 0:
                continue
            estimator = copy.deepcopy(track.state_estimator)
            estimator.predict(ahead, self.frame_rate)
            box = _box(estimator.state_to_bbox())
            carried.append(TrackedFace(track.tracker_id, box, self._scores[track.tracker_id], detected=False))
        return sorted(carried, key=lambda face: face.track_id)

    def _update(self, detections: Sequence[Detection]) -> list[tuple[int, TrackedFace]]:
        """:meth:`update`, each face with the index of its detection."""
        self._frame += 1
        self._detected_frame = self._frame
        result = self._bytetrack.update(
            sv.Detections(
                xyxy=np.array([_xyxy(box) for box, _ in detections], dtype=float).reshape(-1, 4),
                confidence=np.array([score for _, score in detections], dtype=float),
                data={"index": np.arange(len(detections))},
            ),
            timestamp=self._frame / self.frame_rate,
        )
        tracked = sorted(
            (int(index), track_id)
            for index, track_id in zip(
                result.data.get("index", ()), self._name_new_tracks(result), strict=True
            )
            if track_id != -1
        )
        live = {track.tracker_id for track in self._bytetrack.tracks}
        self._scores = {track_id: score for track_id, score in self._scores.items() if track_id in live}
        faces = []
        for index, track_id in tracked:
            box, score = detections[index]
            self._scores[track_id] = score
            faces.append((index, TrackedFace(track_id, box, score, detected=True)))
        return faces

    def _name_new_tracks(self, result: sv.Detections) -> list[int]:
        """Give this frame's new tracks their ids now; returns the track id of each result row.

        ByteTrack spawns a track with id -1 and names it on its next match. The new tracks are
        the ones still unnamed after the update (every earlier one was named here); their rows are
        the unnamed ones that cleared the activation score, boxes unchanged.
        """
        track_ids = [int(i) for i in result.tracker_id]
        new_tracks = [track for track in self._bytetrack.tracks if track.tracker_id == -1]
        rows = [
            row
            for row, track_id in enumerate(track_ids)
            if track_id == -1 and result.confidence[row] >= self.min_track_score
        ]
        pairs = match_greedy(
            [_box(result.xyxy[row]) for row in rows],
            [_box(track.get_state_bbox()) for track in new_tracks],
            iou_threshold=1.0,
        )
        for row, track in pairs:
            new_tracks[track].tracker_id = track_ids[rows[row]] = self._next_id
            self._next_id += 1
        return track_ids
