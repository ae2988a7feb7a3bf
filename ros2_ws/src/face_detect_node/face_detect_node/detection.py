"""One frame in, one :class:`FrameFaces` out: boxes, scores, stable indices and padded crops."""

from __future__ import annotations

import numpy as np
from face_common.crops import crop_zero_padded
from face_common.faces import Face, FrameFaces, FrameRef

from face_detect_node.detectors import FaceDetector

#: Margin of the crop around the face box, per side, as a fraction of the box. The seed cut
#: +10%; the age/gender model was trained on 40% margins, and identity finds its landmarks
#: inside the same crop, so one 40% crop serves both.
DEFAULT_CROP_MARGIN = 0.4


def detect_faces(
    image_bgr: np.ndarray,
    detector: FaceDetector,
    frame: FrameRef,
    crop_margin: float = DEFAULT_CROP_MARGIN,
) -> FrameFaces:
    """Detect faces and cut a zero-padded BGR crop of each.

    Faces are numbered left to right (then top to bottom), not in the detector's arbitrary
    order, so that ``(camera_id, stamp, index)`` names the same face when a frame is replayed.
    """
    found = sorted(detector.detect(image_bgr), key=lambda d: (d[0].x, d[0].y, d[0].w, d[0].h))
    faces = []
    for index, (box, score) in enumerate(found):
        crop_box = box.expanded(crop_margin)
        faces.append(
            Face(
                index=index,
                box=box,
                score=score,
                crop=crop_zero_padded(image_bgr, crop_box),
                crop_box=crop_box,
            )
        )
    return FrameFaces(frame=frame, faces=faces)
