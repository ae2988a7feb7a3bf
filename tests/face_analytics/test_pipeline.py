"""The pipeline library: running frames of one or several cameras through detection and the stages
(with stand-in stages), and the chain as ``open_pipeline`` builds it from the nodes' settings (real
models: Haar, dlib ResNet ONNX, dlib-models ONNX age/gender). The frame clock is camera_node's
(tests/camera_node/test_recorded_time.py)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from agegender_node.attribution import AttributionSettings, FaceAttributor
from face_analytics.pipeline import (
    Pipeline,
    SourceFrame,
    interleave_by_stamp,
    open_pipeline,
    process_frames,
)
from face_common.faces import GENDERS, Box, Face, FrameFaces, FrameRef
from face_detect_node.detection import DetectionConfig, FaceFinder
from face_sink.schema import open_sqlite_store
from identity_node.identification import FaceIdentifier, IdentitySettings


class _TwoFaces:
    """Stands in for FaceFinder: two faces in every frame, of the one camera it was made for."""

    def __init__(self, camera_id: str = "cam") -> None:
        self.camera_id = camera_id

    def find(self, image_bgr: np.ndarray, frame: FrameRef) -> FrameFaces:
        assert frame.camera_id == self.camera_id, "each camera has its own detector and tracker"
        return FrameFaces(frame, [Face(i, Box(10 + 50 * i, 10, 40, 40), 0.9) for i in range(2)])


def test_cameras_are_interleaved_by_stamp_and_each_gets_its_own_finder(tmp_path: Path) -> None:
    image = np.zeros((120, 160, 3), np.uint8)
    door = [SourceFrame(FrameRef("door", stamp), image, f"door {stamp}") for stamp in (0, 10, 20)]
    till = [SourceFrame(FrameRef("till", stamp), image, f"till {stamp}") for stamp in (5, 10, 30)]
    merged = list(interleave_by_stamp([door, till]))
    assert [s.name for s in merged] == ["door 0", "till 5", "door 10", "till 10", "door 20", "till 30"]

    seen: list[tuple[str, int]] = []

    def identify(frame_faces: FrameFaces) -> list[str]:
        seen.append((frame_faces.frame.camera_id, frame_faces.frame.stamp_ns))
        return []

    pipeline = Pipeline(_TwoFaces, [identify])
    store = open_sqlite_store(tmp_path / "events.sqlite")
    try:
        counters = process_frames(merged, pipeline, store)
    finally:
        store.close()
    assert seen == [(s.frame.camera_id, s.frame.stamp_ns) for s in merged], "one stage serves both cameras"
    assert sorted(pipeline.finders) == ["door", "till"]
    assert counters.events_inserted == 12


def test_frames_go_through_the_stages_in_order_and_each_face_is_one_event(tmp_path: Path) -> None:
    calls: list[str] = []

    def identify(frame_faces: FrameFaces) -> list[str]:
        calls.append("identify")
        for face in frame_faces.faces:
            face.face_id = face.index + 1
        return ["face 1: no crop"]

    def attribute(frame_faces: FrameFaces) -> list[str]:
        calls.append("attribute")
        assert all(face.face_id >= 1 for face in frame_faces.faces), "runs after identity"
        for face in frame_faces.faces:
            face.age, face.gender = 30.0, "female"
        return []

    image = np.zeros((120, 160, 3), np.uint8)
    frames = [
        SourceFrame(FrameRef("cam", 1), image, "frame 0"),
        SourceFrame(FrameRef("cam", 2), None, "frame 1: bad"),
        SourceFrame(FrameRef("cam", 3), image, "frame 2"),
    ]
    store = open_sqlite_store(tmp_path / "events.sqlite")
    try:
        counters = process_frames(frames, Pipeline(_TwoFaces, [identify, attribute]), store)
        events = store.read_events()
    finally:
        store.close()
    assert calls == ["identify", "attribute"] * 2
    assert (counters.frames, counters.unreadable_frames, counters.faces) == (3, 1, 4)
    assert (counters.skipped_faces, counters.events_inserted) == (2, 4)
    assert [(e.stamp_ns, e.face_index, e.face_id, e.gender) for e in events] == [
        (1, 0, 1, "female"),
        (1, 1, 2, "female"),
        (3, 0, 1, "female"),
        (3, 1, 2, "female"),
    ]


def test_open_pipeline_builds_the_graphs_chain_from_the_node_settings(
    face_data: Path, tmp_path: Path
) -> None:
    detection = DetectionConfig(detector="haar", frame_rate=1.0)
    identity = IdentitySettings()  # a photo's faces are untracked: enrolled at once
    attribution = AttributionSettings(backend="dlib_onnx")
    image = cv2.imread(
        str(face_data / "identity" / "images" / "face_recognition" / "examples" / "obama-240p.jpg")
    )
    store = open_sqlite_store(tmp_path / "events.sqlite")
    try:
        with open_pipeline(detection, identity, attribution, tmp_path / "gallery.sqlite") as pipeline:
            finder = pipeline.finder("cam")
            assert isinstance(finder, FaceFinder) and finder.config == detection
            assert pipeline.finder("cam") is finder, "one detector and tracker per camera"
            identify, attribute = pipeline.stages
            assert isinstance(identify.__self__, FaceIdentifier)
            assert isinstance(attribute.__self__, FaceAttributor)
            assert identify.__self__.descriptor.name == identity.make_descriptor().name
            counters = process_frames([SourceFrame(FrameRef("cam", 0), image, "obama")], pipeline, store)
        (event,) = store.read_events()
    finally:
        store.close()
    assert counters.skipped_faces == 0
    assert event.face_id == 1 and event.new_face
    assert math.isfinite(event.age) and event.gender in GENDERS
