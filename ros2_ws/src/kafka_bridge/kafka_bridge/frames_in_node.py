"""frames_in (server side): the Kafka frames topic back into ROS 2 as ``sensor_msgs/Image``.

Run: ``frames_in --ros-args -p bootstrap_servers:=broker:9092 -p max_frame_age_s:=2.0``.
Consumes as a member of consumer group ``group_id``: several servers with the same group share
the cameras by partition. Each frame is republished as ``bgr8`` with the camera's header
(``frame_id`` = camera id, ``stamp`` = capture time) on ``output_topic`` with ``{camera_id}``
filled in (default ``{camera_id}/image_raw``: each camera in its own namespace). Frames older
than ``max_frame_age_s`` are skipped and counted (0: keep all). Counters: ``/diagnostics``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from confluent_kafka import Consumer, KafkaError, Message
from face_common.graph_node import run_node
from face_common.images import array_to_image_msg
from face_common.ros_msgs import frame_header
from rclpy.exceptions import InvalidTopicNameException
from rclpy.executors import SingleThreadedExecutor
from rclpy.publisher import Publisher
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from kafka_bridge.bridge_node import BridgeNode
from kafka_bridge.frame_intake import FrameIntake, FramesInSettings
from kafka_bridge.frame_record import FrameRecordError
from kafka_bridge.topics import MAX_FRAME_BYTES, frames_topic

BATCH = 32


class FramesInNode(BridgeNode):
    settings_class = FramesInSettings
    counters = ("received", "decoded", "too_old")
    problems = ("bad", "unpublishable")
    settings: FramesInSettings

    def __init__(self) -> None:
        super().__init__("frames_in")
        s = self.settings
        self.intake = FrameIntake(s.max_frame_age_s)
        self.ensure_topics([frames_topic(s.topic, s.partitions, s.replication_factor)])
        self.consumer = Consumer(
            {
                "group.id": s.group_id,
                # Never "latest": a fresh group would miss what is already there; stale frames
                # are max_frame_age_s's job.
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "session.timeout.ms": s.session_timeout_ms,
                "max.partition.fetch.bytes": MAX_FRAME_BYTES,
                "error_cb": self._on_kafka_error,
                **self.kafka_settings,
            }
        )
        self.consumer.subscribe([s.topic], on_assign=self._on_assign)
        self.publishers_by_camera: dict[str, Publisher | None] = {}
        # Publishers made at start are discovered by subscribers before the first frame; one
        # made on a camera's first frame loses that burst to DDS discovery.
        for camera_id in s.camera_ids:
            if camera_id:
                self._publisher_for(camera_id)
        self.get_logger().info(
            f"group {s.group_id}: frames to {s.output_topic}, max frame age {s.max_frame_age_s:g} s (0: all)"
        )

    def run(self, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        """Consume and republish until stopped, serving timers between batches."""
        while not stop.is_set():
            for record in self.consumer.consume(BATCH, timeout=0.05):
                self._on_record(record)
            executor.spin_once(timeout_sec=0.0)

    def _on_record(self, record: Message) -> None:
        if record.error() is not None:
            if record.error().code() != KafkaError._PARTITION_EOF:
                self.get_logger().warning(f"consumer: {record.error().str()}", throttle_duration_sec=5.0)
            return
        try:
            frame = self.intake.accept(record.value(), record.headers(), self.get_clock().now().nanoseconds)
        except FrameRecordError as err:
            self.get_logger().warning(
                f"record at {record.topic()}[{record.partition()}]@{record.offset()} skipped "
                f"({self.intake.stats.bad} so far): {err}",
                throttle_duration_sec=5.0,
            )
            return
        if frame is None:
            return
        meta, image = frame
        publisher = self._publisher_for(meta.frame.camera_id)
        if publisher is None:
            self.health.count("unpublishable")
            return
        publisher.publish(array_to_image_msg(image, "bgr8", frame_header(meta.frame)))

    def _publisher_for(self, camera_id: str) -> Publisher | None:
        """The camera's image publisher, made on its first frame (None: not a valid topic)."""
        if camera_id not in self.publishers_by_camera:
            topic = self.settings.output_topic.replace("{camera_id}", camera_id)
            try:
                publisher = self.create_publisher(Image, topic, qos_profile_sensor_data)
                self.get_logger().info(f"camera {camera_id!r}: publishing on {publisher.topic_name}")
            except InvalidTopicNameException as err:
                publisher = None
                self.get_logger().error(f"camera {camera_id!r} cannot be published on {topic!r}: {err}")
            self.publishers_by_camera[camera_id] = publisher
        return self.publishers_by_camera[camera_id]

    def _on_assign(self, _consumer: Consumer, partitions: list) -> None:
        self.get_logger().info(f"assigned partitions {sorted(p.partition for p in partitions)}")

    def _on_kafka_error(self, err: KafkaError) -> None:
        self.get_logger().warning(f"Kafka: {err.str()}", throttle_duration_sec=5.0)

    def client_counters(self) -> Mapping[str, int]:
        return self.intake.stats.as_dict()

    def close(self) -> None:
        self.consumer.close()  # leaves the group at once: its partitions go to the other servers
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(FramesInNode, args)
