"""frames_out (Pi side): a camera's ``image_raw`` into the Kafka frames topic.

Run: ``frames_out --ros-args -r __ns:=/cam1 -p bootstrap_servers:=broker:9092``.
Each frame becomes one record keyed by the camera id (the header's ``frame_id`` unless the
``camera_id`` parameter overrides it), so one camera's frames keep their order on one partition;
headers carry the capture stamp, a sequence number, encoding and size (``frame_record``). When
the broker is away the newest ``queue_frames`` frames wait locally and older ones are dropped
and counted (``outbox``); the node reconnects by itself. Counters: ``~/stats``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from confluent_kafka import KafkaError, Producer
from face_common.faces import FrameRef
from face_common.images import ImageConversionError, image_msg_to_array
from face_common.ros_msgs import frame_ref
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from kafka_bridge.bridge_node import BridgeNode, run_bridge_node
from kafka_bridge.frame_record import (
    ENCODINGS,
    FrameMeta,
    FrameRecordError,
    encode_image,
    source_encoding,
)
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import FRAMES_TOPIC, MAX_FRAME_BYTES, frames_topic


class FramesOutNode(BridgeNode):
    def __init__(self) -> None:
        super().__init__("frames_out", FRAMES_TOPIC)
        self.camera_id = str(self.param("camera_id", "", "record key; empty: each image's header frame_id"))
        self.encoding = str(self.param("encoding", "jpeg", f"frame payload: {' | '.join(ENCODINGS)}"))
        self.jpeg_quality = int(self.param("jpeg_quality", 85, "JPEG quality 1..100"))
        capacity = int(self.param("queue_frames", 24, "frames kept locally while the broker is away"))
        max_in_flight = int(self.param("max_in_flight", 12, "frames handed to the Kafka client at once"))
        delivery_timeout_s = float(
            self.param("delivery_timeout_s", 5.0, "a frame not acknowledged by then counts as lost")
        )
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}; accepted: {', '.join(ENCODINGS)}")
        if not 1 <= self.jpeg_quality <= 100 or delivery_timeout_s <= 0:
            raise ValueError("need 1 <= jpeg_quality <= 100 and delivery_timeout_s > 0")
        self.ensure_topics([frames_topic(self.topic, self.partitions, self.replication_factor)])
        settings = {
            # Idempotence keeps each camera's frames in order through retries.
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.max.bytes": MAX_FRAME_BYTES,
            "message.timeout.ms": round(delivery_timeout_s * 1000),
            "queue.buffering.max.messages": max_in_flight,
            **self.kafka_settings,
        }

        def make_producer(on_error: Callable[[KafkaError], None]) -> Producer:
            return Producer({**settings, "error_cb": on_error})

        self.outbox = Outbox(make_producer, self.topic, self.get_logger(), capacity, max_in_flight)
        self.seq = 0
        self.unreadable = 0
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_timer(0.02, self.outbox.pump)  # delivery reports and the queue, between frames
        self.get_logger().info(
            f"sending {self.resolve_topic_name('image_raw')} as {self.encoding} "
            f"(queue {capacity} frames, {delivery_timeout_s:g} s delivery timeout)"
        )

    def _on_image(self, msg: Image) -> None:
        try:
            image = image_msg_to_array(msg, source_encoding(self.encoding))
            value = encode_image(image, self.encoding, self.jpeg_quality)
        except (ImageConversionError, FrameRecordError) as err:
            self.unreadable += 1
            self.get_logger().warning(
                f"frame not sent ({self.unreadable} so far): {err}", throttle_duration_sec=5.0
            )
            return
        frame = frame_ref(msg.header)
        if self.camera_id:
            frame = FrameRef(self.camera_id, frame.stamp_ns)
        meta = FrameMeta(frame, self.seq, self.encoding, image.shape[1], image.shape[0])
        self.seq += 1
        self.outbox.put(frame.camera_id.encode(), value, meta.headers())

    def counters(self) -> dict[str, int]:
        return {**self.outbox.stats.as_dict(), "unreadable": self.unreadable}

    def close(self) -> None:
        """Send what is still queued (bounded by the delivery timeout), then report."""
        self.outbox.flush(timeout_s=5.0)
        self.report_stats()


def main(args: list[str] | None = None) -> int:
    return run_bridge_node(FramesOutNode, "frames_out", args)


if __name__ == "__main__":
    sys.exit(main())
