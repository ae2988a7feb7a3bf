"""bag_recorder: records one image topic to a rosbag2 bag that ``ros2 bag play`` accepts.

Run: ``bag_recorder --ros-args -p topic:=/cam0/image_raw -p output:=cam0_bag -p storage:=mcap``.
Like ``ros2 bag record`` it waits for the topic to appear, learns its type and the publishers'
offered QoS from the graph (both go into ``metadata.yaml``), stores each message's CDR bytes as
received (no deserialisation: a 720p frame costs one copy) stamped with the receive time, and
closes the bag properly on Ctrl-C, SIGTERM or after ``max_messages``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from sensor_msgs.msg import CompressedImage, Image

from camera_node.bag_files import (
    COMPRESSED_IMAGE_TYPE,
    IMAGE_TYPE,
    STORAGES,
    BagError,
    ImageBagWriter,
)
from camera_node.shutdown import stop_on_signals

MESSAGE_CLASSES = {IMAGE_TYPE: Image, COMPRESSED_IMAGE_TYPE: CompressedImage}
SUBSCRIPTION_DEPTH = 50
"""Frames held while the bag write of an earlier one finishes: a best-effort frame that finds
the queue full is lost, and a 720p frame takes a while to write on a busy machine (50 frames
of 720p bgr8 are at most ~140 MB)."""


class BagRecorder(Node):
    def __init__(self) -> None:
        super().__init__("bag_recorder")
        topic = self._param("topic", "image_raw", "image topic to record (relative names use the namespace)")
        default_output = time.strftime("rosbag2_%Y_%m_%d-%H_%M_%S")
        self.output = Path(self._param("output", default_output, "new bag folder to write"))
        self.storage = self._param("storage", "sqlite3", f"bag storage: {' | '.join(STORAGES)}")
        self.max_messages = int(
            self._param("max_messages", 0, "stop after this many messages (0 = no limit)")
        )
        if self.storage not in STORAGES:
            raise BagError(f"unknown storage {self.storage!r}; accepted: {', '.join(STORAGES)}")
        if self.output.exists():
            raise BagError(f"{self.output} exists already; give a new folder as 'output'")
        self.topic = self.resolve_topic_name(topic)
        self.writer: ImageBagWriter | None = None
        self.done = Future()
        self._discovery = self.create_timer(0.1, self._discover)
        self.get_logger().info(f"waiting for publishers on {self.topic}")

    def _param(self, name: str, default: object, description: str) -> object:
        return self.declare_parameter(name, default, ParameterDescriptor(description=description)).value

    def _discover(self) -> None:
        """Open the bag once the topic has publishers: their type and QoS go into the metadata."""
        publishers = self.get_publishers_info_by_topic(self.topic)
        if not publishers:
            return
        self._discovery.cancel()
        types = sorted({info.topic_type for info in publishers})
        try:
            if len(types) != 1:
                raise BagError(f"{self.topic} is published with several types: {', '.join(types)}")
            profiles = [info.qos_profile for info in publishers]
            self.writer = ImageBagWriter(self.output, self.topic, types[0], profiles, self.storage)
        except BagError as err:
            self.done.set_exception(err)
            return
        all_reliable = all(p.reliability == ReliabilityPolicy.RELIABLE for p in profiles)
        qos = QoSProfile(
            depth=SUBSCRIPTION_DEPTH,
            reliability=ReliabilityPolicy.RELIABLE if all_reliable else ReliabilityPolicy.BEST_EFFORT,
            durability=DurabilityPolicy.VOLATILE,
        )
        self.create_subscription(MESSAGE_CLASSES[types[0]], self.topic, self._record, qos, raw=True)
        self.get_logger().info(f"recording {self.topic} ({types[0]}) to {self.output} ({self.storage})")

    def _record(self, cdr: bytes) -> None:
        if self.done.done() or self.writer is None:
            return
        self.writer.write(self.get_clock().now().nanoseconds, cdr)
        if self.max_messages and self.writer.count >= self.max_messages:
            self.done.set_result(self.writer.count)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.get_logger().info(f"wrote {self.writer.count} messages to {self.output}")


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = stop_on_signals()
    node = None
    status = 0
    try:
        node = BagRecorder()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not stop.is_set() and not node.done.done():  # short waits: a signal is seen within 0.1 s
            executor.spin_once(timeout_sec=0.1)
        if node.done.exception() is not None:
            raise node.done.exception()
    except BagError as err:
        rclpy.logging.get_logger("bag_recorder").error(str(err))
        status = 1
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
