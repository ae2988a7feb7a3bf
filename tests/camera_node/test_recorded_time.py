"""A recording's own time: ``FrameClock``, ``parse_start`` and ``recorded_start`` sources stamp frame
``i`` at start + i / fps, for camera_node and face_offline alike (one piece serves both)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from camera_node.bag_files import IMAGE_TYPE, ImageBagWriter
from camera_node.resize import ResizeMode
from camera_node.sources import (
    DEFAULT_FOLDER_FPS,
    CameraSettings,
    FrameClock,
    FrameError,
    SourceError,
    open_camera_source,
    parse_start,
    source_fps,
)
from face_analytics.offline import FrameSize, source_frames
from face_common.images import array_to_image_msg
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

START = "2024-05-01T10:00:00"
START_NS = int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()) * 10**9


@pytest.fixture(scope="module")
def clip(face_data: Path) -> Path:
    return face_data / "video" / "short_hamilton_clip.mp4"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k}.png"), np.full((90, 160, 3), 60 * k, np.uint8))
    return tmp_path


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("2024-05-01T10:00:00", START_NS),
        ("2024-05-01T12:00:00+02:00", START_NS),
        ("2024-05-01T10:00:00.25", START_NS + 250_000_000),
    ],
)
def test_start_time_is_utc(text: str, expected_ns: int, tmp_path: Path) -> None:
    assert parse_start(text, tmp_path) == expected_ns


def test_start_defaults_to_the_source_mtime(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    assert parse_start(None, clip) == clip.stat().st_mtime_ns


def test_frame_clock_stamps_frames_and_finds_them_again() -> None:
    clock = FrameClock(START_NS, 12.0)
    assert clock.stamp_of(0) == START_NS
    assert clock.stamp_of(12) == START_NS + 10**9
    assert [clock.frame_of(clock.stamp_of(i)) for i in range(50)] == list(range(50))
    assert clock.frame_of(clock.stamp_of(7) + 30_000_000) == 7, "a paced camera's stamp: the nearest frame"


def stamps(settings: CameraSettings, count: int) -> list[int]:
    source = open_camera_source(settings)
    try:
        return [source.read().stamp_ns for _ in range(count)]
    finally:
        source.close()


def test_a_video_is_stamped_at_its_own_frame_rate(clip: Path) -> None:
    fps = source_fps(clip)
    assert fps == pytest.approx(29.97), "the file says it was recorded at 29.97 fps"
    settings = CameraSettings(source=str(clip), recorded_start=START, fps=2.0)  # pace: not the stamps
    assert stamps(settings, 5) == [START_NS + round(i * 1e9 / fps) for i in range(5)]


def test_a_folder_is_stamped_a_photo_a_second_or_at_recorded_fps(folder: Path) -> None:
    assert stamps(CameraSettings(source=str(folder), recorded_start=START), 3) == [
        START_NS + round(i * 1e9 / DEFAULT_FOLDER_FPS) for i in range(3)
    ]
    at_4_fps = CameraSettings(source=str(folder), recorded_start=START, recorded_fps=4.0)
    assert stamps(at_4_fps, 3) == [START_NS, START_NS + 250_000_000, START_NS + 500_000_000]


def test_a_rewound_recording_goes_on_in_time_and_a_bad_frame_keeps_its_slot(folder: Path) -> None:
    (folder / "1.png").write_bytes(b"not a png")
    source = open_camera_source(CameraSettings(source=str(folder), recorded_start=START))
    try:
        assert "recorded from 2024-05-01T10:00:00+00:00 at 1 fps" in source.description
        assert source.read().stamp_ns == START_NS
        with pytest.raises(FrameError):
            source.read()
        assert source.read().stamp_ns == START_NS + 2 * 10**9
        assert source.read() is None
        source.rewind()
        assert source.read().stamp_ns == START_NS + 3 * 10**9
    finally:
        source.close()


def test_without_recorded_start_frames_carry_the_capture_clock(folder: Path) -> None:
    before = datetime.now(UTC).timestamp() * 1e9
    assert all(stamp >= before for stamp in stamps(CameraSettings(source=str(folder)), 3))


@pytest.mark.parametrize(
    ("source", "start", "fragment"),
    [
        ("missing.mp4", START, "no such file or folder 'missing.mp4'"),
        ("FOLDER", "yesterday", "'yesterday' is not an ISO 8601 time"),
    ],
)
def test_bad_recorded_sources_are_refused(folder: Path, source: str, start: str, fragment: str) -> None:
    settings = CameraSettings(source=str(folder) if source == "FOLDER" else source, recorded_start=start)
    with pytest.raises(ValueError, match=fragment):
        open_camera_source(settings)


def test_a_bag_keeps_its_own_stamps(tmp_path: Path) -> None:
    writer = ImageBagWriter(tmp_path / "bag", "/cam1/image_raw", IMAGE_TYPE, [qos_profile_sensor_data])
    image = array_to_image_msg(np.zeros((4, 4, 3), np.uint8), "bgr8", Header(frame_id="cam1"))
    writer.write(1, serialize_message(image))
    writer.close()
    with pytest.raises(SourceError, match="no time of its own"):
        open_camera_source(CameraSettings(source=str(tmp_path / "bag"), recorded_start=START))


def test_face_offline_reads_the_stamps_the_node_publishes(clip: Path) -> None:
    node = stamps(CameraSettings(source=str(clip), recorded_start=START), 12)
    size = FrameSize(1280, 720, ResizeMode.LETTERBOX)
    offline = source_frames(clip, "cam1", FrameClock(START_NS, source_fps(clip)), size, every=3)
    assert [next(offline).frame.stamp_ns for _ in range(4)] == node[::3]
