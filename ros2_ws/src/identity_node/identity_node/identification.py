"""One frame's faces in, the same faces with face IDs out: the identity stage without ROS.

The node and offline processing both call :meth:`FaceIdentifier.identify`, so they assign IDs
the same way.

The descriptor is the graph's most expensive step per face (~0.1-0.2 s on one core), and a
customer stays in view for many frames. A face whose track (``track_id`` from the detector's
tracker) was identified in the last ``redescribe_every - 1`` frames of its camera keeps that
track's ID without a new descriptor; every ``redescribe_every``-th frame of a track it is
described and matched again, so a wrong track association is corrected quickly. A track not seen
for ``track_ttl_s`` of capture time is forgotten (a restarted detector numbers tracks afresh).
"""

from __future__ import annotations

from dataclasses import dataclass

from face_common.faces import Face, FrameFaces

from identity_node.descriptor import FaceDescriptor, FaceInput, check_face_input
from identity_node.gallery import FaceGallery

DEFAULT_REDESCRIBE_EVERY = 6
DEFAULT_TRACK_TTL_S = 1.0


@dataclass
class _KnownTrack:
    face_id: int
    distance: float
    frames_since_described: int
    last_stamp_ns: int


class FaceIdentifier:
    """Describes the faces of a frame in one model call and matches them in the gallery."""

    def __init__(
        self,
        descriptor: FaceDescriptor,
        gallery: FaceGallery,
        redescribe_every: int = DEFAULT_REDESCRIBE_EVERY,
        track_ttl_s: float = DEFAULT_TRACK_TTL_S,
    ) -> None:
        if redescribe_every < 1:
            raise ValueError(f"redescribe_every must be >= 1, got {redescribe_every}")
        self.descriptor = descriptor
        self.gallery = gallery
        self.redescribe_every = redescribe_every
        self._track_ttl_ns = round(track_ttl_s * 1e9)
        self._tracks: dict[tuple[str, int], _KnownTrack] = {}

    def identify(self, frame_faces: FrameFaces) -> list[str]:
        """Fill ``face_id``, ``distance`` and ``new_face`` of each face in place.

        A face without a usable crop keeps its unknown ID; the returned list says, per skipped
        face, why (for the caller's log and counters). Every ID set here is already on disk.
        """
        camera, stamp_ns = frame_faces.frame.camera_id, frame_faces.frame.stamp_ns
        self._forget_tracks_older_than(stamp_ns - self._track_ttl_ns)
        problems = []
        taken: set[int] = set()
        to_describe: list[Face] = []
        inputs: list[FaceInput] = []
        for face in frame_faces.faces:
            known = self._tracks.get((camera, face.track_id)) if face.track_id >= 0 else None
            if known is not None and known.frames_since_described < self.redescribe_every - 1:
                known.frames_since_described += 1
                known.last_stamp_ns = stamp_ns
                face.face_id, face.distance, face.new_face = known.face_id, known.distance, False
                taken.add(known.face_id)
                continue
            if face.crop is None or face.crop_box is None:
                problems.append(f"face {face.index}: no crop")
                continue
            try:
                check_face_input(face.crop, face.box_in_crop())
            except ValueError as err:
                problems.append(f"face {face.index}: {err}")
                continue
            to_describe.append(face)
            inputs.append((face.crop, face.box_in_crop()))
        vectors = self.descriptor.describe_many(inputs) if inputs else []
        # One frame never shows one person twice: tracked faces keep their IDs, then the closest
        # matches claim theirs, and later faces of the frame cannot take an ID already given in it.
        order = sorted(range(len(to_describe)), key=lambda i: self.gallery.nearest_distance(vectors[i]))
        for i in order:
            face = to_describe[i]
            known = self._tracks.get((camera, face.track_id)) if face.track_id >= 0 else None
            prefer = known.face_id if known is not None else None
            match = self.gallery.match_or_enrol(vectors[i], exclude_ids=taken, prefer_id=prefer)
            face.face_id, face.distance, face.new_face = match.face_id, match.distance, match.new_face
            taken.add(match.face_id)
            if face.track_id >= 0:
                self._tracks[(camera, face.track_id)] = _KnownTrack(
                    match.face_id, match.distance, 0, stamp_ns
                )
        return problems

    def _forget_tracks_older_than(self, oldest_ns: int) -> None:
        for key in [key for key, track in self._tracks.items() if track.last_stamp_ns < oldest_ns]:
            del self._tracks[key]
