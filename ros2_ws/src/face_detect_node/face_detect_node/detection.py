"""One frame in, one :class:`FrameFaces` out: boxes, scores, track ids, stable indices, padded crops.

:class:`FaceFinder` is the face detection node's core, and offline processing runs the same one:
the detector on every ``detect_every``-th frame, the tracker carrying the boxes through the
frames in between. :class:`DetectionConfig` is the single source of its defaults.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from face_common.crops import crop_zero_padded
from face_common.faces import Face, FrameFaces, FrameRef
from face_common.settings import setting

from face_detect_node.detectors import (
    DEFAULT_DETECTOR,
    DEFAULT_INPUT_SIZE,
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_SCORE_THRESHOLD,
    DETECTORS,
    FaceDetector,
    ScaledDetector,
    make_detector,
)
from face_detect_node.tracking import FaceTracker, TrackedFace

#: Margin of the crop around the face box, per side, as a fraction of the box. The seed cut
#: +10%; the age/gender model was trained on 40% margins, and identity finds its landmarks
#: inside the same crop, so one 40% crop serves both.
DEFAULT_CROP_MARGIN = 0.4


#: Frames further apart than 1/this are not tracked: a face can move anywhere in between.
MIN_TRACKING_FRAME_RATE = 2.0
#: Mean absolute difference (0-255) of two frames' 32x18 grey thumbnails above which the scene
#: changed (a cut in recorded footage, a camera bumped or switched, the lights): the detector
#: runs at once and no track carries over. Faces moving at a till change the thumbnail by a few
#: levels; the cuts of the bundled clip by 25-60.
SCENE_CHANGE_LEVEL = 20.0
_THUMBNAIL_SIZE = (32, 18)


@dataclass(frozen=True)
class DetectionConfig:
    """How a camera's faces are found; the node's parameters and ``face_offline``'s options.

    ``detect_every`` 3 at 12 frames/s runs the detector 4 times a second; faces at a till move
    little in 1/4 s and the tracker predicts where (``docs/benchmarks.md`` measures the cost and
    ``bench/bench_tracking.py`` the carried boxes). Under :data:`MIN_TRACKING_FRAME_RATE` (a
    folder of photos, a time-lapse) frames are too far apart for a face to be followed: every
    frame is detected and its faces are left untracked; so with ``tracking`` off, which is the
    seed's per-frame pipeline (every face described and estimated in every frame).
    """

    detector: str = setting(DEFAULT_DETECTOR, "Face detector backend", choices=sorted(DETECTORS))
    score_threshold: float = setting(
        DEFAULT_SCORE_THRESHOLD, "RetinaFace: least face probability reported", 0.0, 1.0
    )
    input_size: int = setting(
        DEFAULT_INPUT_SIZE,
        "RetinaFace: the frame's longest side is resized to this before the network (cost grows "
        "with its square; smaller loses small faces)",
        32,
        4096,
    )
    min_face_size: int = setting(
        DEFAULT_MIN_FACE_SIZE, "Smallest face side to report, in full-resolution pixels", 1, 4096
    )
    detect_scale: float = setting(
        1.0, "Detect on the frame resized by this factor (faster); boxes stay full-resolution", 0.05, 1.0
    )
    detect_every: int = setting(
        3, "Run the detector on every N-th frame; the tracker carries the boxes in between", 1, 100
    )
    frame_rate: float = setting(12.0, "The camera's frames per second (the tracker's clock)", 0.1, 240.0)
    tracking: bool = setting(
        True,
        "Track faces (identity and age/gender then look at each track's best views); false: detect "
        "every frame, every face untracked (the seed's per-frame pipeline)",
    )
    crop_margin: float = setting(
        DEFAULT_CROP_MARGIN,
        "Crop margin per side as a fraction of the face box (zero-padded at borders)",
        0.0,
        2.0,
    )

    def backend_options(self) -> dict[str, float | int]:
        """``score_threshold`` and ``input_size`` set the DNN detector (RetinaFace); the OpenCV and
        dlib detectors keep their own fixed thresholds."""
        if self.detector != "retinaface":
            return {}
        return {"score_threshold": self.score_threshold, "input_size": self.input_size}

    def make_detector(self) -> ScaledDetector:
        """The detector these settings describe: what :class:`FaceFinder` runs, and what a
        benchmark of the detector alone must time."""
        return make_detector(
            self.detector,
            min_face_size=self.min_face_size,
            detect_scale=self.detect_scale,
            **self.backend_options(),
        )

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if not self.frame_rate > 0:
            raise ValueError(f"frame_rate must be > 0, got {self.frame_rate}")


def faces_in_frame(
    image_bgr: np.ndarray,
    frame: FrameRef,
    found: Sequence[TrackedFace],
    crop_margin: float = DEFAULT_CROP_MARGIN,
) -> FrameFaces:
    """The frame's faces with a zero-padded BGR crop of each.

    Faces are numbered left to right (then top to bottom), not in the detector's arbitrary
    order, so that ``(camera_id, stamp, index)`` names the same face when a frame is replayed. A
    box the tracker carried without a detection has score NaN ("not measured in this frame").
    """
    ordered = sorted(found, key=lambda t: (t.box.x, t.box.y, t.box.w, t.box.h))
    faces = []
    for index, tracked in enumerate(ordered):
        crop_box = tracked.box.expanded(crop_margin)
        faces.append(
            Face(
                index=index,
                box=tracked.box,
                score=tracked.score if tracked.detected else math.nan,
                crop=crop_zero_padded(image_bgr, crop_box),
                crop_box=crop_box,
                track_id=tracked.track_id,
            )
        )
    return FrameFaces(frame=frame, faces=faces)


def detect_faces(
    image_bgr: np.ndarray,
    detector: FaceDetector,
    frame: FrameRef,
    crop_margin: float = DEFAULT_CROP_MARGIN,
) -> FrameFaces:
    """Detect faces in one image, untracked (``track_id`` -1): photos, evaluation."""
    found = [TrackedFace(-1, box, score, detected=True) for box, score in detector.detect(image_bgr)]
    return faces_in_frame(image_bgr, frame, found, crop_margin)


class FaceFinder:
    """Detects on every ``detect_every``-th frame of one camera and tracks in between."""

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config
        self.detector = config.make_detector()
        self.tracker = FaceTracker(config.frame_rate) if self.tracks else None
        self._thumbnail: np.ndarray | None = None
        self._since_detection = 0
        self.detections = 0
        self.scene_changes = 0

    @property
    def tracks(self) -> bool:
        """Whether frames are close enough in time for faces to be tracked."""
        return self.config.tracking and self.config.frame_rate >= MIN_TRACKING_FRAME_RATE

    def find(self, image_bgr: np.ndarray, frame: FrameRef) -> FrameFaces:
        """This frame's faces: detected ones on a detection frame, else the tracks carried over."""
        if self.tracker is None:
            self.detections += 1
            return detect_faces(image_bgr, self.detector, frame, self.config.crop_margin)
        thumbnail = cv2.resize(
            cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), _THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        scene_changed = (
            self._thumbnail is not None
            and float(np.abs(thumbnail - self._thumbnail).mean()) > SCENE_CHANGE_LEVEL
        )
        if scene_changed:
            self.tracker.end_all_tracks()
            self.scene_changes += 1
        due = self._thumbnail is None or self._since_detection + 1 >= self.config.detect_every
        if scene_changed or due:
            found = self.tracker.update(self.detector.detect(image_bgr))
            self.detections += 1
            self._thumbnail, self._since_detection = thumbnail, 0
        else:
            self._since_detection += 1
            height, width = image_bgr.shape[:2]
            found = [
                replace(tracked, box=inside)
                for tracked in self.tracker.carry()
                if (inside := tracked.box.clipped_to(width, height)) is not None
            ]
        return faces_in_frame(image_bgr, frame, found, self.config.crop_margin)
