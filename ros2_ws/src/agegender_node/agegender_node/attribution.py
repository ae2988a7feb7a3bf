"""One frame's faces in, the same faces with age and gender out: the age/gender stage without ROS.

The node and offline processing both call :meth:`FaceAttributor.attribute`, so they estimate
the same way.

Per **track**, the model looks at the same views the identity stage describes (a track's first
usable view, then only better ones, at most ``max_views``: :mod:`face_common.track_views`) and
pools them: the median of the ages (one bad view does not move it) and the mean P(female). Every
face of the track carries the pooled estimate, also in frames the model did not look at.
Untracked faces are estimated one by one. All faces estimated in a frame go in one model call.

:class:`AttributionSettings` is the single source of the stage's defaults: agegender_node's
parameters and ``face_offline``'s options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from face_common.faces import Face, FrameFaces
from face_common.settings import setting
from face_common.track_views import (
    DEFAULT_MAX_VIEWS,
    DEFAULT_MIN_VIEW_GAIN,
    DEFAULT_TRACK_TTL_S,
    TrackMemory,
    ViewRecord,
    view_quality,
)

from agegender_node.estimators import (
    BACKENDS,
    DEFAULT_BACKEND,
    AgeGender,
    AgeGenderEstimator,
    create_estimator,
    gender_of,
)


@dataclass(frozen=True)
class AttributionSettings:
    """How age and gender are estimated; agegender_node's parameters, ``face_offline``'s options."""

    backend: str = setting(
        DEFAULT_BACKEND,
        "Age/gender backend (wideresnet_* and faceapi_onnx need the files scripts/fetch_models.sh puts in "
        "model_dir)",
        choices=sorted(BACKENDS),
    )
    model_dir: str = setting("models", "Folder filled by agegender_fetch_models (scripts/fetch_models.sh)")
    num_threads: int = setting(1, "CPU threads the model may use (the graph shares few cores)", 1, 64)
    max_views_per_track: int = setting(
        DEFAULT_MAX_VIEWS,
        "Estimate a face track at most this many times (its best views, as identity picks them) "
        "and pool them: median age, mean P(female)",
        1,
        100,
    )

    def make_estimator(self) -> AgeGenderEstimator:
        """The model these settings describe (loads it): what :class:`FaceAttributor` runs, and what
        an evaluation or benchmark of the model alone must use."""
        return create_estimator(self.backend, Path(self.model_dir), self.num_threads)


@dataclass
class _TrackAttributes:
    record: ViewRecord = field(default_factory=ViewRecord)
    estimates: list[AgeGender] = field(default_factory=list)

    def pooled(self) -> AgeGender | None:
        """Median age and mean P(female) of the views estimated so far."""
        if not self.estimates:
            return None
        p_female = float(np.mean([e.p_female for e in self.estimates]))
        age = float(np.median([e.age for e in self.estimates]))
        return AgeGender(age=age, gender=gender_of(p_female), p_female=p_female)


class FaceAttributor:
    """Fills ``age``, ``gender`` and ``p_female`` of a frame's faces with one estimator call."""

    def __init__(
        self,
        estimator: AgeGenderEstimator,
        max_views: int = DEFAULT_MAX_VIEWS,
        min_view_gain: float = DEFAULT_MIN_VIEW_GAIN,
        track_ttl_s: float = DEFAULT_TRACK_TTL_S,
    ) -> None:
        self.estimator = estimator
        self.max_views = max_views
        self.min_view_gain = min_view_gain
        self._tracks: TrackMemory[_TrackAttributes] = TrackMemory(_TrackAttributes, track_ttl_s)
        self.estimates = 0

    @classmethod
    def from_settings(cls, settings: AttributionSettings) -> FaceAttributor:
        """The stage as ``settings`` make it (loads the backend's model)."""
        return cls(settings.make_estimator(), max_views=settings.max_views_per_track)

    def attribute(self, frame_faces: FrameFaces) -> list[str]:
        """Estimate the selected views in place; return, per face without a crop, why."""
        self._tracks.forget_stale(frame_faces.frame)
        problems: list[str] = []
        tracks: dict[int, _TrackAttributes | None] = {}
        selected: list[tuple[Face, float]] = []
        for face in frame_faces.faces:
            track = tracks[face.index] = self._tracks.state(frame_faces.frame, face)
            if face.crop is None or face.crop_box is None:
                problems.append(f"face {face.index}: no crop")
                continue
            if track is None:
                selected.append((face, math.nan))
            elif track.record.wants(quality := view_quality(face), self.max_views, self.min_view_gain):
                selected.append((face, quality))
        estimates = self.estimator.estimate(
            [face.crop for face, _ in selected], [face.box_in_crop() for face, _ in selected]
        )
        self.estimates += len(selected)
        for (face, quality), estimate in zip(selected, estimates, strict=True):
            track = tracks[face.index]
            if track is None:
                face.age, face.gender, face.p_female = estimate.age, estimate.gender, estimate.p_female
            else:
                track.record.took(quality)
                track.estimates.append(estimate)
        for face in frame_faces.faces:
            track = tracks[face.index]
            if track is not None and (pooled := track.pooled()) is not None:
                face.age, face.gender, face.p_female = pooled.age, pooled.gender, pooled.p_female
        return problems
