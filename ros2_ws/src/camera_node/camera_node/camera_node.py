"""camera_node: publishes ``image_raw`` (``sensor_msgs/Image``, bgr8) from any frame source at a fixed rate.

Run: ``camera_node --ros-args -r __ns:=/cam0 -p camera_id:=cam0 -p source:=samples/video/clip.mp4``.
Frames are paced at ``fps`` on a drift-free grid, brought to ``width`` x ``height`` by ``resize_mode``
(letterbox by default: aspect kept, black bars), stamped with their capture time and published with
sensor-data QoS and ``frame_id`` = ``camera_id``. A finite source that ends is logged and the node
exits with status 0, unless ``loop`` restarts it.
"""

from __future__ import annotations

import sys
import threading
import time

import rclpy
from face_common.images import array_to_image_msg
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from camera_node.pacing import RateScheduler
from camera_node.resize import ResizeMode, fit_to_size
from camera_node.shutdown import stop_on_signals
from camera_node.sources import BAG_STAMPS, Frame, FrameError, SourceError, open_source

DISCOVERY_SETTLE_S = 2.0
"""Extra wait after ``min_subscribers`` have matched, before the first frame."""


class CameraNode(Node):
    def __init__(self, stop: threading.Event | None = None) -> None:
        super().__init__("camera_node")
        self.stop = stop or threading.Event()
        self.camera_id = self._param("camera_id", "camera", "camera id: header frame_id (and the namespace)")
        self.source_text = str(
            self._param("source", "", "what to read; see camera_node.sources for the forms", dynamic=True)
        )
        self.fps = float(self._param("fps", 12.0, "frames per second published"))
        self.width = int(self._param("width", 1280, "published frame width (pixels)"))
        self.height = int(self._param("height", 720, "published frame height (pixels)"))
        mode = self._param("resize_mode", "letterbox", "letterbox (keep aspect, pad black) | stretch | none")
        self.loop = bool(self._param("loop", False, "restart a finite source at its end"))
        self.max_frames = int(self._param("max_frames", 0, "stop after this many frames (0 = unlimited)"))
        topic = self._param("topic", "", "bag sources: image topic to replay (default: the only one)")
        bag_stamps = self._param(
            "bag_stamps", "recorded", f"bag sources: header stamps, {' | '.join(BAG_STAMPS)}"
        )
        self.min_subscribers = int(
            self._param("min_subscribers", 0, "wait for this many subscribers before the first frame")
        )
        self.resize_mode = ResizeMode.parse(mode)
        if self.fps <= 0 or (self.resize_mode is not ResizeMode.NONE and min(self.width, self.height) <= 0):
            raise ValueError(
                f"fps, width and height must be positive (fps={self.fps}, {self.width}x{self.height})"
            )

        self.source = open_source(
            self.source_text, width=self.width, height=self.height, topic=topic, bag_stamps=bag_stamps
        )
        self.publisher = self.create_publisher(Image, "image_raw", qos_profile_sensor_data)
        self.published = 0
        self.republished = 0
        self.failed = 0
        self.get_logger().info(
            f"publishing {self.source.description} on {self.publisher.topic_name} at {self.fps:g} fps, "
            f"{self.width}x{self.height} ({self.resize_mode.value})"
        )

    def _param(self, name: str, default: object, description: str, dynamic: bool = False) -> object:
        descriptor = ParameterDescriptor(description=description, dynamic_typing=dynamic)
        return self.declare_parameter(name, default, descriptor).value

    def run(self, executor: SingleThreadedExecutor) -> None:
        """Publish until the source ends (without ``loop``), ``max_frames`` are out, or ``stop`` is set.

        ``stop`` (set by Ctrl-C/SIGTERM) is checked between frames, so the node stops after a whole
        frame and with a valid context: no publish ever races the shutdown.
        """
        self._wait_for_subscribers(executor)
        scheduler = RateScheduler(self.fps, time.monotonic())
        try:
            while not self.stop.is_set() and (self.max_frames == 0 or self.published < self.max_frames):
                self._spin_until(executor, scheduler.next_deadline(time.monotonic()))
                if self.stop.is_set():
                    break
                try:
                    frame = self._next_frame()
                except FrameError as err:
                    self.failed += 1
                    self.get_logger().warning(f"frame skipped ({self.failed} so far): {err}")
                    continue
                if frame is None:
                    self.get_logger().info(f"end of {self.source.description}")
                    break
                self.publish(frame)
            # Best-effort samples still in flight would be lost if the publisher vanished at once.
            self._spin_until(executor, time.monotonic() + scheduler.period_s)
        finally:
            self.get_logger().info(
                f"published {self.published} frames ({self.republished} as stored), {self.failed} failed, "
                f"{scheduler.skipped} slots skipped while late"
            )

    def _next_frame(self) -> Frame | None:
        frame = self.source.read()
        if frame is None and self.loop:
            self.get_logger().info(f"end of {self.source.description}; looping")
            self.source.rewind()
            frame = self.source.read()
        return frame

    def publish(self, frame: Frame) -> None:
        image = fit_to_size(frame.image, self.width, self.height, self.resize_mode)
        stored = frame.stored
        if stored is not None and image is frame.image and stored.frame_id == self.camera_id:
            self.publisher.publish(stored.cdr)  # replay: the bag's bytes are already this message
            self.republished += 1
        else:
            header = Header(frame_id=self.camera_id)
            header.stamp.sec, header.stamp.nanosec = divmod(frame.stamp_ns, 1_000_000_000)
            self.publisher.publish(array_to_image_msg(image, "bgr8", header))
        self.published += 1

    def _wait_for_subscribers(self, executor: SingleThreadedExecutor) -> None:
        if self.min_subscribers <= 0:
            return
        self.get_logger().info(f"waiting for {self.min_subscribers} subscriber(s)")
        while not self.stop.is_set() and self.publisher.get_subscription_count() < self.min_subscribers:
            executor.spin_once(timeout_sec=0.05)
        # Discovery is not symmetric: a subscriber can match this publisher seconds after this
        # publisher matched it (~2 s measured here for 720p set-ups), and best-effort frames sent
        # before that are lost; waiting a little longer keeps a recording's first frames.
        self._spin_until(executor, time.monotonic() + DISCOVERY_SETTLE_S)

    def _spin_until(self, executor: SingleThreadedExecutor, deadline: float) -> None:
        """Serve parameter/service requests while waiting for the next frame's deadline."""
        while not self.stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            executor.spin_once(timeout_sec=remaining)

    def destroy_node(self) -> None:
        self.source.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = stop_on_signals()
    node = None
    try:
        node = CameraNode(stop)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        node.run(executor)
    except (SourceError, ValueError) as err:
        rclpy.logging.get_logger("camera_node").error(str(err))
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
