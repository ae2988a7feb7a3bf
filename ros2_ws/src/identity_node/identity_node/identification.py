"""One frame's faces in, the same faces with face IDs out: the identity stage without ROS.

The node and offline processing both call :meth:`FaceIdentifier.identify`, so they assign IDs
the same way.
"""

from __future__ import annotations

from face_common.faces import FrameFaces

from identity_node.descriptor import FaceDescriptor, FaceInput, check_face_input
from identity_node.gallery import FaceGallery


class FaceIdentifier:
    """Describes every face of a frame in one model call and matches it in the gallery."""

    def __init__(self, descriptor: FaceDescriptor, gallery: FaceGallery) -> None:
        self.descriptor = descriptor
        self.gallery = gallery

    def identify(self, frame_faces: FrameFaces) -> list[str]:
        """Fill ``face_id``, ``distance`` and ``new_face`` of each face in place.

        A face without a usable crop keeps its unknown ID; the returned list says, per skipped
        face, why (for the caller's log and counters). Every ID set here is already on disk.
        """
        problems = []
        usable = []
        inputs: list[FaceInput] = []
        for face in frame_faces.faces:
            if face.crop is None or face.crop_box is None:
                problems.append(f"face {face.index}: no crop")
                continue
            try:
                check_face_input(face.crop, face.box_in_crop())
            except ValueError as err:
                problems.append(f"face {face.index}: {err}")
                continue
            usable.append(face)
            inputs.append((face.crop, face.box_in_crop()))
        vectors = self.descriptor.describe_many(inputs)
        # One frame never shows one person twice: the closest matches claim their IDs first and
        # later faces of the frame cannot take an ID already given in it.
        order = sorted(range(len(usable)), key=lambda i: self.gallery.nearest_distance(vectors[i]))
        taken: set[int] = set()
        for i in order:
            match = self.gallery.match_or_enrol(vectors[i], exclude_ids=taken)
            face = usable[i]
            face.face_id, face.distance, face.new_face = match.face_id, match.distance, match.new_face
            taken.add(match.face_id)
        return problems
