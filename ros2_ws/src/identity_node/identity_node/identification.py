"""One frame's faces in, the same faces with face IDs out: the identity stage without ROS.

The node and offline processing both call :meth:`FaceIdentifier.identify`, so they assign IDs
the same way.

A face is identified **per track** (``track_id`` from the detector's tracker), not per frame:

- The descriptor (~0.1 s a face) runs on a track's first usable view and afterwards only on a
  better one (:func:`face_common.track_views.view_quality`: larger, sharper, surer detection),
  at most ``max_views`` times a track. Frames in between carry the track's ID.
  Views under :data:`~face_common.track_views.MIN_VIEW_QUALITY` (out of focus, tiny) are never
  described: their descriptors lie close to everybody's and would merge people.
- A new track is decided once it has ``min_views_to_enrol`` views. They **vote**: each names
  the known ID it matches (under the gallery's threshold); an ID named by at least half of them
  is the track's (a returning customer). Otherwise, when they agree with each other (all
  pairwise under the threshold), the track is **enrolled** as a new ID. So a one-frame false
  detection or a blurred glimpse never becomes a customer. Until then the track's faces carry the
  unknown ID (-1), which the report counts as unidentified.
- A decided track keeps its ID while its better views still match it (no flicker between two
  near IDs); a view that does not (the tracker followed the box onto somebody else) makes the
  track start over.
- One frame never shows one person twice: an ID held by another face of the frame is excluded.
- A track whose ID left the gallery (erased, or expired by retention) starts over: an erased ID
  is never published again, and a person still in view is decided afresh.

Untracked faces (``track_id`` -1, e.g. single photos) are matched or enrolled at once.

:class:`IdentitySettings` is the single source of the stage's defaults: identity_node's
parameters and ``face_offline``'s options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from face_common.faces import UNKNOWN_FACE_ID, Face, FrameFaces
from face_common.settings import setting
from face_common.track_views import (
    DEFAULT_MAX_VIEWS,
    DEFAULT_MIN_VIEW_GAIN,
    DEFAULT_TRACK_TTL_S,
    MIN_VIEW_QUALITY,
    TrackMemory,
    ViewRecord,
    view_quality,
)

from identity_node.descriptor import (
    DEFAULT_DESCRIPTOR_BACKEND,
    DESCRIPTOR_BACKENDS,
    DESCRIPTOR_SIZE,
    FaceDescriptor,
    FaceInput,
    check_face_input,
    make_descriptor,
)
from identity_node.gallery import (
    DEFAULT_MATCH_THRESHOLD,
    DEFAULT_MAX_DESCRIPTORS_PER_ID,
    DEFAULT_NOVELTY_DISTANCE,
    FaceGallery,
)

DEFAULT_MIN_VIEWS_TO_ENROL = 3


@dataclass(frozen=True)
class IdentitySettings:
    """How faces are described and matched; identity_node's parameters, ``face_offline``'s options."""

    match_threshold: float = setting(
        DEFAULT_MATCH_THRESHOLD,
        "Descriptor distance under which a face is a known ID (0.6: dlib's LFW threshold)",
        0.05,
        2.0,
    )
    max_descriptors_per_id: int = setting(
        DEFAULT_MAX_DESCRIPTORS_PER_ID,
        "Views kept per face ID; when full the oldest non-first view is replaced",
        1,
        64,
    )
    novelty_distance: float = setting(
        DEFAULT_NOVELTY_DISTANCE,
        "A matched face at least this far from its ID's views is stored as a new view",
        0.0,
        2.0,
    )
    max_views_per_track: int = setting(
        DEFAULT_MAX_VIEWS,
        "Describe a face track at most this many times: its first usable view, then only better "
        "ones (larger, sharper, surer detection)",
        1,
        100,
    )
    min_view_gain: float = setting(
        DEFAULT_MIN_VIEW_GAIN,
        "A view is described again only when its quality beats the track's best by this fraction",
        0.0,
        10.0,
    )
    min_views_to_enrol: int = setting(
        DEFAULT_MIN_VIEWS_TO_ENROL,
        "A track matching no known face becomes a new ID only after this many agreeing views",
        1,
        100,
    )
    track_ttl_s: float = setting(
        DEFAULT_TRACK_TTL_S, "Forget a track not seen for this long (capture time)", 0.0, 3600.0
    )
    descriptor_backend: str = setting(
        DEFAULT_DESCRIPTOR_BACKEND, "Face descriptor backend", choices=sorted(DESCRIPTOR_BACKENDS)
    )
    num_jitters: int = setting(
        0, "Average each descriptor over this many jittered copies (slower, not deterministic)", 0, 100
    )
    model_dir: str = setting(
        "models", "Folder of set-up made model files (scripts/fetch_models.sh), for dlib_resnet_onnx"
    )

    def make_descriptor(self) -> FaceDescriptor:
        """The descriptor these settings describe: what :class:`FaceIdentifier` runs, and what an
        evaluation or benchmark of the descriptor alone must use."""
        return make_descriptor(
            self.descriptor_backend, num_jitters=self.num_jitters, model_dir=Path(self.model_dir)
        )


@dataclass
class _TrackIdentity:
    """What the identity stage knows of one track: its described views and its ID so far."""

    record: ViewRecord = field(default_factory=ViewRecord)
    views: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (quality, descriptor)
    face_id: int = UNKNOWN_FACE_ID
    distance: float = math.nan

    @property
    def known(self) -> bool:
        return self.face_id != UNKNOWN_FACE_ID

    def start_over(self) -> None:
        """Drop the track's ID and views: its next views decide it again."""
        self.face_id, self.distance, self.views = UNKNOWN_FACE_ID, math.nan, []


class FaceIdentifier:
    """Describes selected views of each track in one model call and matches them in the gallery."""

    def __init__(
        self,
        descriptor: FaceDescriptor,
        gallery: FaceGallery,
        max_views: int = DEFAULT_MAX_VIEWS,
        min_view_gain: float = DEFAULT_MIN_VIEW_GAIN,
        min_views_to_enrol: int = DEFAULT_MIN_VIEWS_TO_ENROL,
        track_ttl_s: float = DEFAULT_TRACK_TTL_S,
    ) -> None:
        if min_views_to_enrol < 1:
            raise ValueError(f"min_views_to_enrol must be >= 1, got {min_views_to_enrol}")
        if max_views < min_views_to_enrol:
            raise ValueError(f"max_views ({max_views}) must be >= min_views_to_enrol ({min_views_to_enrol})")
        self.descriptor = descriptor
        self.gallery = gallery
        self.max_views = max_views
        self.min_view_gain = min_view_gain
        self.min_views_to_enrol = min_views_to_enrol
        self._tracks: TrackMemory[_TrackIdentity] = TrackMemory(_TrackIdentity, track_ttl_s)
        self.descriptions = 0

    @classmethod
    def from_settings(cls, settings: IdentitySettings, gallery_path: str | Path) -> FaceIdentifier:
        """The stage as ``settings`` make it, with the gallery at ``gallery_path`` open (the
        caller closes ``identifier.gallery``)."""
        descriptor = settings.make_descriptor()
        gallery = FaceGallery(
            gallery_path,
            descriptor_kind=descriptor.name,
            descriptor_size=DESCRIPTOR_SIZE,
            match_threshold=settings.match_threshold,
            max_descriptors_per_id=settings.max_descriptors_per_id,
            novelty_distance=settings.novelty_distance,
        )
        try:
            return cls(
                descriptor,
                gallery,
                max_views=settings.max_views_per_track,
                min_view_gain=settings.min_view_gain,
                min_views_to_enrol=settings.min_views_to_enrol,
                track_ttl_s=settings.track_ttl_s,
            )
        except ValueError:
            gallery.close()
            raise

    def identify(self, frame_faces: FrameFaces) -> list[str]:
        """Fill ``face_id``, ``distance`` and ``new_face`` of each face in place.

        Returns, per face that could not be described, why (for the caller's log and counters).
        Every ID set here is already on disk.
        """
        frame = frame_faces.frame
        self._tracks.forget_stale(frame)
        problems: list[str] = []
        tracks: dict[int, _TrackIdentity | None] = {}
        to_describe: list[tuple[Face, float]] = []
        for face in frame_faces.faces:
            track = tracks[face.index] = self._tracks.state(frame, face)
            if track is not None and track.known and not self.gallery.knows(track.face_id):
                track.start_over()
            quality = view_quality(face) if track is not None else math.nan
            if track is None:
                wanted = True
            elif track.known:
                wanted = track.record.wants(quality, self.max_views, self.min_view_gain)
            else:
                wanted = quality >= MIN_VIEW_QUALITY  # pending: every usable view until decided
            if not wanted:
                continue
            if face.crop is None or face.crop_box is None:
                problems.append(f"face {face.index}: no crop")
                continue
            try:
                check_face_input(face.crop, face.box_in_crop())
            except ValueError as err:
                problems.append(f"face {face.index}: {err}")
                continue
            to_describe.append((face, quality))
        inputs: list[FaceInput] = [(face.crop, face.box_in_crop()) for face, _ in to_describe]
        vectors = self.descriptor.describe_many(inputs) if inputs else []
        self.descriptions += len(inputs)
        described = {
            face.index: (quality, vector)
            for (face, quality), vector in zip(to_describe, vectors, strict=True)
        }

        held = {f.index: t.face_id for f in frame_faces.faces if (t := tracks[f.index]) and t.known}
        for face in sorted(frame_faces.faces, key=lambda f: self._claim_order(described.get(f.index))):
            others = {face_id for index, face_id in held.items() if index != face.index}
            track = tracks[face.index]
            if track is None:
                if face.index in described:
                    match = self.gallery.match_or_enrol(described[face.index][1], exclude_ids=others)
                    face.face_id, face.distance, face.new_face = match.face_id, match.distance, match.new_face
            else:
                face.new_face = False
                if face.index in described:
                    face.new_face = self._take_view(track, *described[face.index], others)
                face.face_id, face.distance = track.face_id, track.distance
            if face.face_id != UNKNOWN_FACE_ID:
                held[face.index] = face.face_id
        self.gallery.mark_seen(held.values())
        return problems

    def _claim_order(self, described: tuple[float, np.ndarray] | None) -> float:
        """Faces not described keep their tracks' IDs first; then the closest matches claim theirs."""
        if described is None:
            return -math.inf
        nearest = self.gallery.nearest(described[1])
        return math.inf if nearest is None else nearest[1]

    def _take_view(
        self, track: _TrackIdentity, quality: float, vector: np.ndarray, exclude_ids: set[int]
    ) -> bool:
        """Add a described view to its track and settle the track's ID; True when it enrolled one."""
        track.record.took(quality)
        if track.known:
            own = self.gallery.nearest(vector, prefer_id=track.face_id)
            if own is not None and own[0] == track.face_id and own[1] < self.gallery.match_threshold:
                track.views = [*track.views, (quality, vector)][-self.max_views :]
                track.distance = own[1]
                self.gallery.learn(track.face_id, vector, own[1])
                return False
            # Not the track's person any more (the tracker followed a box onto someone else):
            # the track starts over from this view.
            track.start_over()
        track.views = [*track.views, (quality, vector)][-self.max_views :]
        if len(track.views) < self.min_views_to_enrol:
            return False
        winner = self._vote(track, exclude_ids)
        if winner is not None:
            track.face_id, track.distance = winner
            self.gallery.learn(track.face_id, vector, track.distance)
            return False
        if not self._latest_views_agree(track):
            return False
        latest = track.views[-self.min_views_to_enrol :]
        anchor = max(range(len(latest)), key=lambda i: latest[i][0])
        track.face_id, track.distance = self.gallery.enrol(latest[anchor][1]), 0.0
        for i, (_, view) in enumerate(latest):
            if i != anchor:
                nearest = self.gallery.nearest(view, prefer_id=track.face_id)
                if nearest is not None and nearest[0] == track.face_id:
                    self.gallery.learn(track.face_id, view, nearest[1])
        return True

    def _vote(self, track: _TrackIdentity, exclude_ids: set[int]) -> tuple[int, float] | None:
        """The known ID at least half the track's views match, with the newest view's distance to it.

        Ties go to the smaller mean distance.
        """
        votes: dict[int, list[float]] = {}
        for _, view in track.views:
            nearest = self.gallery.nearest(view, exclude_ids)
            if nearest is not None and nearest[1] < self.gallery.match_threshold:
                votes.setdefault(nearest[0], []).append(nearest[1])
        if not votes:
            return None
        face_id = max(votes, key=lambda i: (len(votes[i]), -float(np.mean(votes[i]))))
        if 2 * len(votes[face_id]) < len(track.views):
            return None
        newest = self.gallery.nearest(track.views[-1][1], exclude_ids, prefer_id=face_id)
        if newest is not None and newest[0] == face_id:
            return face_id, newest[1]
        return face_id, float(np.mean(votes[face_id]))

    def _latest_views_agree(self, track: _TrackIdentity) -> bool:
        latest = [view for _, view in track.views[-self.min_views_to_enrol :]]
        if len(latest) < self.min_views_to_enrol:
            return False
        threshold = self.gallery.match_threshold
        return all(float(np.linalg.norm(a - b)) < threshold for a, b in combinations(latest, 2))
