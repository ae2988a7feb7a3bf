"""Real ROS 2 processes for the camera tests: an isolated DDS domain, node launcher, image collector.

Every test gets its own ROS_DOMAIN_ID (from the pid and a counter), so helpers running tests at
the same time on this machine never see each other's topics. 720p frames need Fast DDS's
LARGE_DATA builtin transports between processes; the default set-up drops them.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
import rclpy
from graph_launcher.command_line import resolve_executable
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
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


class RosGraph:
    """One DDS domain: starts node processes in it and collects images in this process."""

    def __init__(self, domain_id: int) -> None:
        self.domain_id = domain_id
        self.env = {k: v for k, v in os.environ.items() if k != "_ROS_WHEELS_BOOTSTRAP_COMPLETE"}
        self.env.update(
            ROS_DOMAIN_ID=str(domain_id),
            RMW_IMPLEMENTATION="rmw_fastrtps_cpp",
            FASTDDS_BUILTIN_TRANSPORTS="LARGE_DATA",
            RCUTILS_LOGGING_BUFFERED_STREAM="0",
        )
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node("test_image_collector", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[Received]] = {}
        self.processes: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def _spin(self) -> None:
        while self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def collect(self, topic: str, publisher: subprocess.Popen, timeout_s: float = 30.0) -> list[Received]:
        """Subscribe to ``topic`` once ``publisher`` (a node process) shows up in the graph.

        Subscribing only after this process has seen the publisher makes the match complete on
        both sides before the publisher (waiting with ``min_subscribers``) sends its first frame.
        The other order loses the first frames: DDS matching is asymmetric, and with Fast DDS's
        LARGE_DATA transports the subscriber side learned of a new publisher ~2 s after the
        publisher side had matched the subscriber.
        """
        deadline = time.monotonic() + timeout_s
        while not self.node.count_publishers(topic):
            if publisher.poll() is not None or time.monotonic() > deadline:
                code, log = finish(publisher)
                pytest.fail(f"no publisher on {topic} (exit code {code}); log:\n{log}")
            time.sleep(0.02)
        frames: list[Received] = []
        self.received[topic] = frames

        def store(msg: Image) -> None:
            with self._lock:
                frames.append(
                    Received(
                        time.monotonic(),
                        msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec,
                        msg.header.frame_id,
                        msg.width,
                        msg.height,
                        msg.encoding,
                        msg.step,
                        np.frombuffer(msg.data, np.uint8).copy() if not frames else np.empty(0, np.uint8),
                    )
                )

        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.node.create_subscription(Image, topic, store, qos)
        return frames

    def start(self, executable: str, namespace: str = "", **params: object) -> subprocess.Popen:
        args = [resolve_executable("camera_node", executable), "--ros-args"]
        if namespace:
            args += ["-r", f"__ns:=/{namespace}"]
        for name, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{name}:={text}"]
        process = subprocess.Popen(
            args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.processes.append(process)
        return process

    def wait_for(self, frames: list[Received], count: int, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(frames) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        for process in self.processes:  # left running only when a test failed early
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._spinner.join(timeout=2.0)


def finish(process: subprocess.Popen, timeout_s: float = 60.0) -> tuple[int, str]:
    """Wait for a node process; return its exit code and its log."""
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"process did not finish in {timeout_s} s; log:\n{output}")
    return process.returncode, output


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
