"""camera_node as a real process over DDS: rate, size, stamps, frame id, looping, clean exit, errors."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from camera_ros_helpers import FPS, FRAMES, assert_paced_frames, collect_images, report
from ros_processes import RosProcesses, exit_counters, finish, wait_until


def test_publishes_the_clip_at_the_asked_rate_and_size(ros_graph: RosProcesses, face_data: Path) -> None:
    process = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="cam0",
        camera_id="cam0",
        source=face_data / "video" / "short_hamilton_clip.mp4",
        fps=FPS,
        max_frames=FRAMES,
        min_subscribers=1,
    )
    frames = collect_images(ros_graph, "/cam0/image_raw", process)
    code, log = finish(process)
    wait_until(lambda: len(frames) >= FRAMES, timeout_s=20.0)
    report("clip", frames)
    assert code == 0, log
    counters = exit_counters(log)
    assert (counters["published"], counters["republished"], counters["failed"]) == (FRAMES, 0, 0), log
    assert_paced_frames(frames, "cam0", 1280, 720)
    # 640x360 is 16:9 like 1280x720: letterboxing fills the frame, no bars.
    first = frames[0].data.reshape(720, 1280, 3)
    assert first[:8].mean() > 5 and first[-8:].mean() > 5


def test_publishes_an_image_folder_letterboxed_and_looped(
    ros_graph: RosProcesses, face_data: Path, tmp_path: Path
) -> None:
    capture = cv2.VideoCapture(str(face_data / "video" / "short_hamilton_clip.mp4"))
    for k in range(10):  # fewer images than frames asked: the folder must loop
        cv2.imwrite(str(tmp_path / f"frame_{k:03d}.jpg"), capture.read()[1])
    capture.release()
    process = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="shop/entrance",
        camera_id="entrance",
        source=tmp_path,
        fps=FPS,
        width=640,
        height=480,
        loop=True,
        max_frames=FRAMES,
        min_subscribers=1,
    )
    frames = collect_images(ros_graph, "/shop/entrance/image_raw", process)
    code, log = finish(process)
    wait_until(lambda: len(frames) >= FRAMES, timeout_s=20.0)
    report("folder", frames)
    assert code == 0, log
    assert log.count("looping") == 2
    assert_paced_frames(frames, "entrance", 640, 480)
    # 640x360 into 640x480: 60-pixel black bars above and below, the picture between.
    first = frames[0].data.reshape(480, 640, 3)
    assert not first[:60].any() and not first[420:].any()
    assert first[60:420].mean() > 5


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("webcam please", "unknown source 'webcam please': no such file or folder; accepted: '/dev/videoN'"),
        ("/dev/video77", "no such camera device /dev/video77"),
    ],
)
def test_unknown_source_exits_with_a_clear_error(ros_graph: RosProcesses, source: str, fragment: str) -> None:
    code, log = finish(ros_graph.start("camera_node", "camera_node", source=source))
    assert code == 1
    assert fragment in log
    assert "Traceback" not in log


def test_bad_resize_mode_exits_with_a_clear_error(ros_graph: RosProcesses, face_data: Path) -> None:
    source = face_data / "video" / "short_hamilton_clip.mp4"
    code, log = finish(ros_graph.start("camera_node", "camera_node", source=source, resize_mode="crop"))
    assert code == 1
    assert "resize_mode='crop' is not one of letterbox, stretch, none" in log


def test_max_frames_zero_means_the_whole_source(ros_graph: RosProcesses, tmp_path: Path) -> None:
    for k in range(5):
        cv2.imwrite(str(tmp_path / f"{k}.png"), np.full((90, 160, 3), 30 * k, np.uint8))
    process = ros_graph.start("camera_node", "camera_node", source=tmp_path, fps=30.0, min_subscribers=1)
    frames = collect_images(ros_graph, "/image_raw", process)
    code, log = finish(process)
    wait_until(lambda: len(frames) >= 5, timeout_s=20.0)
    assert code == 0, log
    assert len(frames) == 5
    assert "end of image folder" in log
    assert exit_counters(log)["published"] == 5


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_looping_node_stops_cleanly_on_signal(
    ros_graph: RosProcesses, tmp_path: Path, stop: signal.Signals
) -> None:
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k}.png"), np.full((90, 160, 3), 60 * k, np.uint8))
    process = ros_graph.start(
        "camera_node", "camera_node", source=tmp_path, fps=30.0, loop=True, min_subscribers=1
    )
    frames = collect_images(ros_graph, "/image_raw", process)
    wait_until(lambda: len(frames) >= 10, timeout_s=20.0)
    process.send_signal(stop)
    code, log = finish(process)
    assert code == 0, log
    assert len(frames) >= 10
    assert exit_counters(log)["published"] >= len(frames)
    assert "Traceback" not in log


def test_a_recording_is_published_with_its_own_time(ros_graph: RosProcesses, face_data: Path) -> None:
    clip = face_data / "video" / "short_hamilton_clip.mp4"  # recorded at 29.97 fps, published at 12
    process = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="till",
        camera_id="till",
        source=clip,
        fps=FPS,
        max_frames=6,
        min_subscribers=1,
        recorded_start="2024-05-01T10:00:00",
    )
    frames = collect_images(ros_graph, "/till/image_raw", process)
    code, log = finish(process)
    wait_until(lambda: len(frames) >= 6, timeout_s=20.0)
    assert code == 0, log
    start_ns = int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()) * 10**9
    assert [f.stamp_ns for f in frames] == [start_ns + round(i * 1e9 / 29.97) for i in range(6)]
    assert "(recorded from 2024-05-01T10:00:00+00:00 at 29.97 fps)" in log
