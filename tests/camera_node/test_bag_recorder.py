"""Record camera_node's frames with bag_recorder, then replay the bag with camera_node."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import yaml
from camera_node.bag_files import TYPESTORE
from camera_ros_helpers import FPS, FRAMES, assert_paced_frames, collect_images, report
from ros_processes import RosProcesses, exit_counters, finish, wait_until
from rosbags.rosbag2 import Reader


def record_clip(ros_graph: RosProcesses, clip: Path, bag: Path, storage: str) -> list[int]:
    """Frames of the clip recorded from /cam0/image_raw; returns their header stamps."""
    recorder = ros_graph.start(
        "camera_node",
        "bag_recorder",
        topic="/cam0/image_raw",
        output=bag,
        storage=storage,
        max_messages=FRAMES,
    )
    camera = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="cam0",
        camera_id="cam0",
        source=clip,
        fps=FPS,
        max_frames=FRAMES,
        min_subscribers=1,
    )
    camera_code, camera_log = finish(camera)
    recorder_code, recorder_log = finish(recorder)
    assert camera_code == 0, camera_log
    assert recorder_code == 0, recorder_log
    assert f"wrote {FRAMES} messages to {bag}" in recorder_log
    assert exit_counters(recorder_log) == {"recorded": FRAMES}

    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert (info["storage_identifier"], info["message_count"]) == (storage, FRAMES)
    meta = info["topics_with_message_count"][0]["topic_metadata"]
    assert (meta["name"], meta["type"], meta["serialization_format"]) == (
        "/cam0/image_raw",
        "sensor_msgs/msg/Image",
        "cdr",
    )
    assert meta["offered_qos_profiles"][0]["reliability"] == "best_effort"
    with Reader(bag) as reader:
        messages = [TYPESTORE.deserialize_cdr(raw, meta["type"]) for _, _, raw in reader.messages()]
    assert {(m.width, m.height, m.encoding, m.header.frame_id) for m in messages} == {
        (1280, 720, "bgr8", "cam0")
    }
    return [m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec for m in messages]


@pytest.mark.parametrize(
    ("storage", "camera_id", "bag_stamps"),
    [
        ("sqlite3", "cam0", "recorded"),  # same camera, same size: stored bytes republished as is
        ("mcap", "replay", "now"),  # another camera id and fresh stamps: messages rebuilt
    ],
)
def test_record_then_replay(
    ros_graph: RosProcesses, face_data: Path, tmp_path: Path, storage: str, camera_id: str, bag_stamps: str
) -> None:
    bag = tmp_path / "bag"
    recorded = record_clip(ros_graph, face_data / "video" / "short_hamilton_clip.mp4", bag, storage)

    started_ns = time.time_ns()
    replay = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace=camera_id,
        camera_id=camera_id,
        source=bag,
        bag_stamps=bag_stamps,
        fps=FPS,
        min_subscribers=1,
    )
    replayed = collect_images(ros_graph, f"/{camera_id}/image_raw", replay)
    code, log = finish(replay)
    wait_until(lambda: len(replayed) >= FRAMES, timeout_s=20.0)
    report(f"replay {storage}", replayed)
    assert code == 0, log
    assert_paced_frames(replayed, camera_id, 1280, 720)
    stamps = [frame.stamp_ns for frame in replayed]
    counters = exit_counters(log)
    assert (counters["published"], counters["failed"]) == (FRAMES, 0), log
    if bag_stamps == "recorded":
        assert stamps == recorded
        assert counters["republished"] == FRAMES
    else:
        assert all(stamp > started_ns for stamp in stamps)
        assert counters["republished"] == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_recorder_closes_the_bag_on_signal(
    ros_graph: RosProcesses, face_data: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    bag = tmp_path / "bag"
    recorder = ros_graph.start("camera_node", "bag_recorder", topic="/cam0/image_raw", output=bag)
    camera = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="cam0",
        camera_id="cam0",
        source=face_data / "video" / "short_hamilton_clip.mp4",
        fps=FPS,
        max_frames=6,
        min_subscribers=1,
    )
    assert finish(camera)[0] == 0
    time.sleep(0.5)  # let the last frame land before stopping
    recorder.send_signal(stop)
    code, log = finish(recorder)
    assert code == 0, log
    assert exit_counters(log) == {"recorded": 6}
    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert info["message_count"] == 6
    with Reader(bag) as reader:
        assert sum(1 for _ in reader.messages()) == 6


def test_recorder_refuses_an_existing_output(ros_graph: RosProcesses, tmp_path: Path) -> None:
    code, log = finish(ros_graph.start("camera_node", "bag_recorder", output=tmp_path))
    assert code == 1
    assert f"{tmp_path} exists already" in log
