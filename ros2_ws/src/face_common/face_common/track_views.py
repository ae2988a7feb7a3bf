"""Which views of a face track the costly stages look at, and per-track memory.

A customer stays in front of a camera for many frames, and a descriptor (~0.1 s) or an age/gender
estimate per face per frame is what made the per-frame graph fall behind the camera. Identity
and age/gender therefore look at a track's **first usable view and then only at better ones**, at
most ``max_views`` times a track. "Better" is :func:`view_quality`, one score both stages use, so
both pick the same views of a track without talking to each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import cv2
import numpy as np

from face_common.faces import Face, FrameRef

#: A face box side at which size stops adding quality: the descriptor's aligned chip is 150 px
#: and the age/gender inputs 64-150 px, so larger faces give them no more detail.
FULL_QUALITY_SIZE_PX = 112
#: Faces are compared for sharpness at one size, so that a large blurred face does not beat a
#: small sharp one on pixel count alone.
SHARPNESS_SIZE_PX = 64
#: Variance of the Laplacian of a face in focus at that size (measured on the bundled clip: 300-1000
#: for the speaker in focus, 1-5 for the out-of-focus audience behind him).
FULL_QUALITY_SHARPNESS = 100.0
#: Views under this quality are too small, blurred or unsure to describe or estimate: an
#: out-of-focus face's descriptor is closer to everybody's, and it would merge people.
MIN_VIEW_QUALITY = 0.05
#: Views of one track a stage looks at, at most.
DEFAULT_MAX_VIEWS = 5
#: A view must beat the track's best so far by this fraction to be looked at again.
DEFAULT_MIN_VIEW_GAIN = 0.2
#: A track not seen for this long (capture time) is forgotten.
DEFAULT_TRACK_TTL_S = 2.0


def view_quality(face: Face) -> float:
    """How well a view shows its face, 0 (unusable) to 1.

    The product of three factors, each at most 1: **size** (smaller box side over
    :data:`FULL_QUALITY_SIZE_PX`), **sharpness** (variance of the Laplacian of the grey face box
    at :data:`SHARPNESS_SIZE_PX` over :data:`FULL_QUALITY_SHARPNESS`) and the **detector's
    score**, which falls for profile, occluded and blurred faces (the frontality term). A box the
    tracker carried through a frame without a detection has no score (NaN) and quality 0: its
    crop may be off the face.
    """
    crop = face.crop
    if crop is None or face.crop_box is None or not math.isfinite(face.score):
        return 0.0
    if crop.dtype != np.uint8 or crop.ndim != 3 or crop.shape[2] != 3:
        return 0.0  # not a BGR crop: no stage can use it
    size = min(1.0, min(face.box.w, face.box.h) / FULL_QUALITY_SIZE_PX)
    inside = face.box_in_crop().clipped_to(crop.shape[1], crop.shape[0])
    if inside is None:
        return 0.0
    region = crop[inside.y : inside.y + inside.h, inside.x : inside.x + inside.w]
    grey = cv2.cvtColor(
        cv2.resize(region, (SHARPNESS_SIZE_PX, SHARPNESS_SIZE_PX), interpolation=cv2.INTER_AREA),
        cv2.COLOR_BGR2GRAY,
    )
    sharpness = min(1.0, float(cv2.Laplacian(grey, cv2.CV_64F).var()) / FULL_QUALITY_SHARPNESS)
    return size * sharpness * min(1.0, max(0.0, face.score))


@dataclass
class ViewRecord:
    """What a stage has looked at in one track: how many views and the best one's quality."""

    views: int = 0
    best_quality: float = 0.0

    def wants(self, quality: float, max_views: int, min_gain: float) -> bool:
        """True for a usable first view, or a view better by ``min_gain`` while views are left."""
        if quality < MIN_VIEW_QUALITY or self.views >= max_views:
            return False
        return self.views == 0 or quality > self.best_quality * (1.0 + min_gain)

    def took(self, quality: float) -> None:
        self.views += 1
        self.best_quality = max(self.best_quality, quality)


State = TypeVar("State")


class TrackMemory(Generic[State]):
    """Per-track state of one stage, keyed by ``(camera, track_id)``, forgotten when stale.

    Track ids are per camera (each camera has its own detector and tracker), hence the key. A
    track unseen for ``ttl_s`` of capture time is dropped, which also clears the ids of a
    restarted detector, whose tracker numbers its tracks afresh.
    """

    def __init__(self, new_state: Callable[[], State], ttl_s: float = DEFAULT_TRACK_TTL_S) -> None:
        if ttl_s < 0:
            raise ValueError(f"track ttl must be >= 0 s, got {ttl_s}")
        self._new_state = new_state
        self._ttl_ns = round(ttl_s * 1e9)
        self._states: dict[tuple[str, int], tuple[State, int]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def forget_stale(self, now: FrameRef) -> None:
        """Drop the tracks last seen more than the ttl before ``now`` (capture clocks agree)."""
        oldest = now.stamp_ns - self._ttl_ns
        for key in [k for k, (_, seen) in self._states.items() if seen < oldest]:
            del self._states[key]

    def state(self, frame: FrameRef, face: Face) -> State | None:
        """The state of ``face``'s track, created on first sight; None for an untracked face."""
        if face.track_id < 0:
            return None
        key = (frame.camera_id, face.track_id)
        state = self._states[key][0] if key in self._states else self._new_state()
        self._states[key] = (state, frame.stamp_ns)
        return state
