"""camera_node: publishes ``image_raw`` (``sensor_msgs/Image``, bgr8) from any frame source at a fixed rate.

Run: ``camera_node --ros-args -r __ns:=/cam0 -p camera_id:=cam0 -p source:=samples/video/clip.mp4``.
Frames are paced at ``fps`` on a drift-free grid, brought to ``width`` x ``height`` by ``resize_mode``
(letterbox by default: aspect kept, black bars), stamped with their capture time (or, with
``recorded_start``, a recording's own time: frame i at recorded_start + i / its frame rate, whatever
``fps`` paces them at) and published with sensor-data QoS and ``frame_id`` = ``camera_id``. A
finite source that ends is logged and the node exits with status 0, unless ``loop`` restarts it.
"""

from __future__ import annotations

import threading
import time

from face_common.graph_node import GraphNode, run_node
from face_common.images import array_to_image_msg
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from camera_node.pacing import RateScheduler
from camera_node.resize import ResizeMode, fit_to_size
from camera_node.sources import CameraSettings, Frame, FrameError, open_camera_source

DISCOVERY_SETTLE_S = 2.0
"""Extra wait after ``min_subscribers`` have matched, before the first frame."""


class CameraNode(GraphNode):
    settings_class = CameraSettings
    counters = ("published", "republished", "slots_skipped")
    problems = ("failed",)
    settings: CameraSettings

    def __init__(self) -> None:
        super().__init__("camera_node")
        s = self.settings
        self.resize_mode = ResizeMode(s.resize_mode)
        self.source = open_camera_source(s)
        self.publisher = self.create_publisher(Image, "image_raw", qos_profile_sensor_data)
        self.get_logger().info(
            f"publishing {self.source.description} on {self.publisher.topic_name} at {s.fps:g} fps, "
            f"{s.width}x{s.height} ({self.resize_mode.value})"
        )

    def run(self, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        """Publish until the source ends (without ``loop``), ``max_frames`` are out, or ``stop`` is set.

        ``stop`` (Ctrl-C/SIGTERM) is checked between frames, so the node stops after a whole frame.
        """
        max_frames = self.settings.max_frames
        self._wait_for_subscribers(executor, stop)
        scheduler = RateScheduler(self.settings.fps, time.monotonic())
        while not stop.is_set() and (max_frames == 0 or self.health["published"] < max_frames):
            self._spin_until(executor, stop, scheduler.next_deadline(time.monotonic()))
            self.health.set("slots_skipped", scheduler.skipped)
            if stop.is_set():
                break
            try:
                frame = self._next_frame()
            except FrameError as err:
                self.report_problem("failed", f"frame skipped: {err}")
                continue
            if frame is None:
                self.get_logger().info(f"end of {self.source.description}")
                break
            self.publish(frame)
        # Best-effort samples still in flight would be lost if the publisher vanished at once.
        self._spin_until(executor, stop, time.monotonic() + scheduler.period_s)

    def _next_frame(self) -> Frame | None:
        frame = self.source.read()
        if frame is None and self.settings.loop:
            self.get_logger().info(f"end of {self.source.description}; looping")
            self.source.rewind()
            frame = self.source.read()
        return frame

    def publish(self, frame: Frame) -> None:
        s = self.settings
        image = fit_to_size(frame.image, s.width, s.height, self.resize_mode)
        stored = frame.stored
        if stored is not None and image is frame.image and stored.frame_id == s.camera_id:
            self.publisher.publish(stored.cdr)  # replay: the bag's bytes are already this message
            self.health.count("republished")
        else:
            header = Header(frame_id=s.camera_id)
            header.stamp.sec, header.stamp.nanosec = divmod(frame.stamp_ns, 1_000_000_000)
            self.publisher.publish(array_to_image_msg(image, "bgr8", header))
        self.health.count("published")

    def _wait_for_subscribers(self, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        wanted = self.settings.min_subscribers
        if wanted <= 0:
            return
        self.get_logger().info(f"waiting for {wanted} subscriber(s)")
        while not stop.is_set() and self.publisher.get_subscription_count() < wanted:
            executor.spin_once(timeout_sec=0.05)
        # Discovery is not symmetric: a subscriber can match this publisher seconds after this
        # publisher matched it (~2 s measured here for 720p set-ups), and best-effort frames sent
        # before that are lost; waiting a little longer keeps a recording's first frames.
        self._spin_until(executor, stop, time.monotonic() + DISCOVERY_SETTLE_S)

    def _spin_until(self, executor: SingleThreadedExecutor, stop: threading.Event, deadline: float) -> None:
        """Serve timers and services while waiting for the next frame's deadline."""
        while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            executor.spin_once(timeout_sec=remaining)

    def destroy_node(self) -> None:
        if hasattr(self, "source"):  # not when the source could not be opened
            self.source.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(CameraNode, args)
