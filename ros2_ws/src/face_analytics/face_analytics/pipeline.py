"""The graph's chain of stages in one process, without ROS: what offline processing, evaluation and
tests run so that they see exactly what the nodes would.

:func:`open_pipeline` is the one place that builds the chain from the nodes' settings dataclasses
(``DetectionConfig`` -> ``FaceFinder``, ``IdentitySettings`` -> ``FaceIdentifier``,
``AttributionSettings`` -> ``FaceAttributor``), in the graph's order; :func:`process_frames` runs
recorded frames through it into an event store. Several cameras run as in the graph: each camera
its own detector and tracker (its namespace's ``face_detect_node``), one identity and one
age/gender stage for all of them (one gallery, so one person has one face ID on every camera), fed
the cameras' frames in stamp order (:func:`interleave_by_stamp`). A :class:`FrameClock` (camera_node's,
which stamps a recording the same way with ``recorded_start``) stamps recorded frames from the file,
not the wall clock, so the same footage always gives the same events (and an evaluation can find the
frame of an event).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from agegender_node.attribution import AttributionSettings, FaceAttributor
from face_common.faces import FaceEvent, FrameFaces, FrameRef
from face_detect_node.detection import DetectionConfig, FaceFinder
from face_sink.schema import EventStore
from identity_node.identification import FaceIdentifier, IdentitySettings

log = logging.getLogger(__name__)

FaceStage = Callable[[FrameFaces], list[str]]
"""One step after detection (a node's core): fills fields of a frame's faces in place and says
what it skipped: ``FaceIdentifier.identify``, ``FaceAttributor.attribute``."""


@dataclass(frozen=True)
class SourceFrame:
    """One recorded frame, stamped, as the pipeline takes it."""

    frame: FrameRef
    image: np.ndarray | None  # None: the frame could not be decoded
    name: str  # for log lines


def interleave_by_stamp(cameras: Iterable[Iterable[SourceFrame]]) -> Iterator[SourceFrame]:
    """Several cameras' frames (each in stamp order) merged into one stream in stamp order, as the
    one identity node receives them; equal stamps keep the order of ``cameras``."""
    return heapq.merge(*cameras, key=lambda source: source.frame.stamp_ns)


@dataclass
class Pipeline:
    """Each camera's detection (with its tracker), then the stages every camera shares, in the
    graph's order."""

    new_finder: Callable[[str], FaceFinder]
    """A camera's own detector and tracker, made on its first frame (track ids are per camera)."""
    stages: Sequence[FaceStage]
    finders: dict[str, FaceFinder] = field(default_factory=dict)

    def finder(self, camera_id: str) -> FaceFinder:
        if camera_id not in self.finders:
            self.finders[camera_id] = self.new_finder(camera_id)
        return self.finders[camera_id]


@contextmanager
def open_pipeline(
    detection: DetectionConfig | Mapping[str, DetectionConfig],
    identity: IdentitySettings,
    attribution: AttributionSettings,
    gallery_path: Path,
) -> Iterator[Pipeline]:
    """The chain as the graph's nodes build it from the same settings, with the gallery open for
    the block (identity, then age/gender, which reads the views identity picked).

    ``detection`` is every camera's, or per camera id (a camera's frame rate is its own)."""

    def new_finder(camera_id: str) -> FaceFinder:
        if not isinstance(detection, Mapping):
            return FaceFinder(detection)
        if camera_id not in detection:
            raise ValueError(f"no detection settings for camera {camera_id!r}")
        return FaceFinder(detection[camera_id])

    identifier = FaceIdentifier.from_settings(identity, gallery_path)
    with identifier.gallery:
        attributor = FaceAttributor.from_settings(attribution)
        yield Pipeline(new_finder, [identifier.identify, attributor.attribute])


@dataclass
class PipelineCounters:
    frames: int = 0
    unreadable_frames: int = 0
    faces: int = 0
    skipped_faces: int = 0
    events_inserted: int = 0


def process_frames(frames: Iterable[SourceFrame], pipeline: Pipeline, store: EventStore) -> PipelineCounters:
    """Run each frame through its camera's detection and the stages; write its events in one
    transaction."""
    counters = PipelineCounters()
    for source in frames:
        counters.frames += 1
        if source.image is None or source.image.size == 0:
            counters.unreadable_frames += 1
            log.warning("%s: unreadable image, skipped (%d so far)", source.name, counters.unreadable_frames)
            continue
        frame_faces = pipeline.finder(source.frame.camera_id).find(source.image, source.frame)
        for stage in pipeline.stages:
            for problem in stage(frame_faces):
                counters.skipped_faces += 1
                log.warning("%s: %s", source.name, problem)
        counters.faces += len(frame_faces.faces)
        counters.events_inserted += store.write_events(
            FaceEvent.from_face(frame_faces.frame, face) for face in frame_faces.faces
        )
    return counters
