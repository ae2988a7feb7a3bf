"""bag_recorder: records one image topic to a rosbag2 bag that ``ros2 bag play`` accepts.

Run: ``bag_recorder --ros-args -p topic:=/cam0/image_raw -p output:=cam0_bag -p storage:=mcap``.
Like ``ros2 bag record`` it waits for the topic to appear, learns its type and the publishers'
offered QoS from the graph (both go into ``metadata.yaml``), stores each message's CDR bytes as
received (no deserialisation: a 720p frame costs one copy) stamped with the receive time, and
closes the bag properly on Ctrl-C, SIGTERM or after ``max_messages``.
"""

from __future__ import annotations

import time
from pathlib import Path

from face_common.graph_node import GraphNode, run_node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from camera_node.bag_files import (
    COMPRESSED_IMAGE_TYPE,
    IMAGE_TYPE,
    BagError,
    ImageBagWriter,
    RecorderSettings,
)

MESSAGE_CLASSES = {IMAGE_TYPE: Image, COMPRESSED_IMAGE_TYPE: CompressedImage}
SUBSCRIPTION_DEPTH = 50
"""Frames held while the bag write of an earlier one finishes: a best-effort frame that finds
the queue full is lost, and a 720p frame takes a while to write on a busy machine (50 frames
of 720p bgr8 are at most ~140 MB)."""


class BagRecorder(GraphNode):
    settings_class = RecorderSettings
    counters = ("recorded",)
    problems = ()
    settings: RecorderSettings

    def __init__(self) -> None:
        super().__init__("bag_recorder")
        self.output = Path(self.settings.output or time.strftime("rosbag2_%Y_%m_%d-%H_%M_%S"))
        if self.output.exists():
            raise BagError(f"{self.output} exists already; give a new folder as 'output'")
        self.topic = self.resolve_topic_name(self.settings.topic)
        self.writer: ImageBagWriter | None = None
        self._discovery = self.create_timer(0.1, self._discover)
        self.get_logger().info(f"waiting for publishers on {self.topic}")

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
            self.writer = ImageBagWriter(self.output, self.topic, types[0], profiles, self.settings.storage)
        except BagError as err:
            self.fail(str(err))
            return
        all_reliable = all(p.reliability == ReliabilityPolicy.RELIABLE for p in profiles)
        qos = QoSProfile(
            depth=SUBSCRIPTION_DEPTH,
            reliability=ReliabilityPolicy.RELIABLE if all_reliable else ReliabilityPolicy.BEST_EFFORT,
            durability=DurabilityPolicy.VOLATILE,
        )
        self.create_subscription(MESSAGE_CLASSES[types[0]], self.topic, self._record, qos, raw=True)
        self.get_logger().info(
            f"recording {self.topic} ({types[0]}) to {self.output} ({self.settings.storage})"
        )

    def _record(self, cdr: bytes) -> None:
        if self.finished or self.writer is None:
            return
        self.writer.write(self.get_clock().now().nanoseconds, cdr)
        self.health.set("recorded", self.writer.count)
        if self.settings.max_messages and self.writer.count >= self.settings.max_messages:
            self.finished = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.get_logger().info(f"wrote {self.writer.count} messages to {self.output}")
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(BagRecorder, args)
