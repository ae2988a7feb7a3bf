"""Camera test helpers: images from node processes as ``Received`` records, and their pacing.

The processes and their DDS domain come from ``ros_processes`` (tests/ is on sys.path).
"""

from __future__ import annotations

import itertools
import subprocess
import time
from dataclasses import dataclass

import numpy as np
import pytest
from ros_processes import RosProcesses, finish
from sensor_msgs.msg import Image


@dataclass
class Received:
    receipt_s: float
    stamp_ns: int
    frame_id: str
    width: int
    height: int
    encoding: str
    step: int
    data: np.ndarray
    """Pixel bytes; kept for the first frame only (720p frames add up)."""


def collect_images(
    ros: RosProcesses, topic: str, publisher: subprocess.Popen, timeout_s: float = 30.0
) -> list[Received]:
    """Subscribe to ``topic`` once ``publisher`` (a node process) shows up in the graph.

    Subscribing only after this process has seen the publisher makes the match complete on
    both sides before the publisher (waiting with ``min_subscribers``) sends its first frame.
    The other order loses the first frames: DDS matching is asymmetric, and the subscriber side
    can learn of a new publisher seconds after the publisher side matched the subscriber (~2 s
    measured with Fast DDS's LARGE_DATA transports).
    """
    deadline = time.monotonic() + timeout_s
    while not ros.node.count_publishers(topic):
        if publisher.poll() is not None or time.monotonic() > deadline:
            code, log = finish(publisher)
            pytest.fail(f"no publisher on {topic} (exit code {code}); log:\n{log}")
        time.sleep(0.02)
    arrivals = itertools.count()  # callbacks run one at a time on the node's spinner thread

    def received(msg: Image) -> Received:
        first = next(arrivals) == 0
        return Received(
            time.monotonic(),
            msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec,
            msg.header.frame_id,
            msg.width,
            msg.height,
            msg.encoding,
            msg.step,
            np.frombuffer(msg.data, np.uint8).copy() if first else np.empty(0, np.uint8),
        )

    return ros.collect(Image, topic, received)


FPS = 12.0
FRAMES = 24


def measured_rates(frames: list[Received]) -> tuple[float, float]:
    """Frames per second from header stamps and from receipt times.

    Each is the inverse slope of a line fitted to time over frame index: one frame delivered late
    by a busy test machine moves an end-to-end estimate by ~10 %, the fit by ~1 %.
    """
    index = np.arange(len(frames))
    stamps_s = np.array([f.stamp_ns - frames[0].stamp_ns for f in frames]) / 1e9
    receipts_s = np.array([f.receipt_s - frames[0].receipt_s for f in frames])
    return 1.0 / np.polyfit(index, stamps_s, 1)[0], 1.0 / np.polyfit(index, receipts_s, 1)[0]


def report(name: str, frames: list[Received]) -> None:
    by_stamp, by_receipt = measured_rates(frames)
    print(f"\n{name}: {len(frames)} frames, {by_stamp:.2f} fps by stamp, {by_receipt:.2f} fps by receipt")


def assert_paced_frames(frames: list[Received], camera_id: str, width: int, height: int) -> None:
    assert len(frames) == FRAMES
    for frame in frames:
        assert (frame.width, frame.height, frame.encoding, frame.step) == (width, height, "bgr8", width * 3)
        assert frame.frame_id == camera_id
    assert all(a.stamp_ns < b.stamp_ns for a, b in itertools.pairwise(frames))
    by_stamp, by_receipt = measured_rates(frames)
    assert by_stamp == pytest.approx(FPS, rel=0.10), f"{by_stamp:.2f} fps by header stamps"
    assert by_receipt == pytest.approx(FPS, rel=0.10), f"{by_receipt:.2f} fps by receipt times"
