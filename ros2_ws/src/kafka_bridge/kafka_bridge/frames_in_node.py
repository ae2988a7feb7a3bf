"""frames_in (server side): the Kafka frames topic back into ROS 2 as ``sensor_msgs/Image``.

Run: ``frames_in --ros-args -p bootstrap_servers:=broker:9092 -p max_frame_age_s:=2.0``.
Consumes as a member of consumer group ``group_id``: several servers with the same group share
the cameras by partition. Each frame is republished as ``bgr8`` with the camera's header
(``frame_id`` = camera id, ``stamp`` = capture time) on ``output_topic`` with ``{camera_id}``
filled in (default ``{camera_id}/image_raw``: each camera in its own namespace). Frames older
than ``max_frame_age_s`` are skipped and counted (0: keep all). Counters: ``~/stats``.
"""

from __future__ import annotations

import sys

import rclpy
from confluent_kafka import Consumer, KafkaError, Message
from face_common.images import array_to_image_msg
from face_common.ros_msgs import frame_header
from rclpy.exceptions import InvalidTopicNameException
from rclpy.executors import SingleThreadedExecutor
from rclpy.publisher import Publisher
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from kafka_bridge.bridge_node import BridgeNode, run_bridge_node
from kafka_bridge.frame_intake import FrameIntake
from kafka_bridge.frame_record import FrameRecordError
from kafka_bridge.topics import FRAMES_TOPIC, MAX_FRAME_BYTES, frames_topic

BATCH = 32


class FramesInNode(BridgeNode):
    def __init__(self) -> None:
        super().__init__("frames_in", FRAMES_TOPIC)
        group_id = str(self.param("group_id", "frames_in", "Kafka consumer group shared by the servers"))
        max_age = float(self.param("max_frame_age_s", 0.0, "skip frames older than this (s); 0: keep all"))
        self.output_topic = str(
            self.param("output_topic", "{camera_id}/image_raw", "image topic; {camera_id} is filled in")
        )
        session_timeout_ms = int(
            self.param("session_timeout_ms", 10000, "consumer group session timeout (failover time)")
        )
        self.intake = FrameIntake(max_age)
        self.ensure_topics([frames_topic(self.topic, self.partitions, self.replication_factor)])
        self.consumer = Consumer(
            {
                "group.id": group_id,
                # Never "latest": a fresh group would miss what is already there; stale frames
                # are max_frame_age_s's job.
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "session.timeout.ms": session_timeout_ms,
                "max.partition.fetch.bytes": MAX_FRAME_BYTES,
                "error_cb": self._on_kafka_error,
                **self.kafka_settings,
            }
        )
        self.consumer.subscribe([self.topic], on_assign=self._on_assign)
        self.publishers_by_camera: dict[str, Publisher | None] = {}
        self.unpublishable = 0
        # Publishers made at start are discovered by subscribers before the first frame; one
        # made on a camera's first frame loses that burst to DDS discovery.
        for camera_id in self.param("camera_ids", [""], "cameras to publish from the start ([''] = none)"):
            if camera_id:
                self._publisher_for(str(camera_id))
        self.get_logger().info(
            f"group {group_id}: frames to {self.output_topic}, max frame age {max_age:g} s (0: all)"
        )

    def run(self) -> None:
        """Consume and republish until shutdown, serving timers between batches."""
        executor = SingleThreadedExecutor()
        executor.add_node(self)
        while rclpy.ok():
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
            self.unpublishable += 1
            return
        publisher.publish(array_to_image_msg(image, "bgr8", frame_header(meta.frame)))

    def _publisher_for(self, camera_id: str) -> Publisher | None:
        """The camera's image publisher, made on its first frame (None: not a valid topic)."""
        if camera_id not in self.publishers_by_camera:
            topic = self.output_topic.replace("{camera_id}", camera_id)
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

    def counters(self) -> dict[str, int]:
        return {**self.intake.stats.as_dict(), "unpublishable": self.unpublishable}

    def close(self) -> None:
        self.consumer.close()  # leaves the group at once: its partitions go to the other servers
        self.report_stats()


def main(args: list[str] | None = None) -> int:
    return run_bridge_node(FramesInNode, "frames_in", args)


if __name__ == "__main__":
    sys.exit(main())
