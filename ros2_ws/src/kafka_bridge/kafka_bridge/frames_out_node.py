"""frames_out (Pi side): a camera's ``image_raw`` into the Kafka frames topic.

Run: ``frames_out --ros-args -r __ns:=/cam1 -p bootstrap_servers:=broker:9092``.
Each frame becomes one record keyed by the camera id (the header's ``frame_id`` unless the
``camera_id`` parameter overrides it), so one camera's frames keep their order on one partition;
headers carry the capture stamp, a sequence number, encoding and size (``frame_record``). When
the broker is away the newest ``queue_frames`` frames wait locally and older ones are dropped
and counted (``outbox``); the node reconnects by itself. Counters: ``/diagnostics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from confluent_kafka import KafkaError, Producer
from face_common.faces import FrameRef
from face_common.graph_node import run_node
from face_common.images import image_msg_to_array
from face_common.ros_msgs import frame_ref
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from kafka_bridge.bridge_node import BridgeNode
from kafka_bridge.frame_record import FrameMeta, FramesOutSettings, encode_image, source_encoding
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import MAX_FRAME_BYTES, frames_topic


class FramesOutNode(BridgeNode):
    settings_class = FramesOutSettings
    counters = ("received", "delivered", "queued", "in_flight", "producer_resets")
    problems = ("bad_messages", "dropped", "failed")
    settings: FramesOutSettings

    def __init__(self) -> None:
        super().__init__("frames_out")
        s = self.settings
        self.ensure_topics([frames_topic(s.topic, s.partitions, s.replication_factor)])
        producer_settings = {
            # Idempotence keeps each camera's frames in order through retries.
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.max.bytes": MAX_FRAME_BYTES,
            "message.timeout.ms": round(s.delivery_timeout_s * 1000),
            "queue.buffering.max.messages": s.max_in_flight,
            **self.kafka_settings,
        }

        def make_producer(on_error: Callable[[KafkaError], None]) -> Producer:
            return Producer({**producer_settings, "error_cb": on_error})

        self.outbox = Outbox(make_producer, s.topic, self.get_logger(), s.queue_frames, s.max_in_flight)
        self.seq = 0
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_timer(0.02, self.outbox.pump)  # delivery reports and the queue, between frames
        self.get_logger().info(
            f"sending {self.resolve_topic_name('image_raw')} as {s.encoding} "
            f"(queue {s.queue_frames} frames, {s.delivery_timeout_s:g} s delivery timeout)"
        )

    def _encoded(self, msg: Image) -> tuple[FrameRef, np.ndarray, bytes]:
        frame = frame_ref(msg.header)
        image = image_msg_to_array(msg, source_encoding(self.settings.encoding))
        return frame, image, encode_image(image, self.settings.encoding, self.settings.jpeg_quality)

    def _on_image(self, msg: Image) -> None:
        encoded = self.decoded(self._encoded, msg)
        if encoded is None:
            return
        frame, image, value = encoded
        if self.settings.camera_id:
            frame = FrameRef(self.settings.camera_id, frame.stamp_ns)
        meta = FrameMeta(frame, self.seq, self.settings.encoding, image.shape[1], image.shape[0])
        self.seq += 1
        self.outbox.put(frame.camera_id.encode(), value, meta.headers())

    def client_counters(self) -> Mapping[str, int]:
        self.health.fault = "Kafka broker unreachable" if self.outbox.unreachable else None
        return self.outbox.stats.as_dict()

    def close(self) -> None:
        """Send what is still queued (bounded by the delivery timeout), then report."""
        self.outbox.flush(timeout_s=5.0)
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(FramesOutNode, args)
