"""events_out (server side): each attributed face as a JSON event on the Kafka events topic.

Run: ``events_out --ros-args -r __ns:=/cam1 -p bootstrap_servers:=broker:9092``.
Subscribes to ``faces_attributed`` (``face_msgs/FaceArray``) and produces one record per face,
keyed by camera id, valued ``event_record.encode_event`` (``FaceEvent.as_dict`` + schema
version). Events are the product's output, so unlike frames they wait for the broker without a
delivery timeout (``delivery_timeout_s`` 0) in a large local queue; the producer is idempotent,
and the sink's natural key makes any replay harmless. Counters: ``~/stats``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from confluent_kafka import KafkaError, Producer
from face_common.faces import FaceEvent
from face_common.images import ImageConversionError
from face_common.ros_msgs import FacesMsg, frame_faces_from_msg
from rclpy.qos import QoSProfile, ReliabilityPolicy

from kafka_bridge.bridge_node import BridgeNode, run_bridge_node
from kafka_bridge.event_record import encode_event
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import EVENTS_RETENTION_MS, EVENTS_TOPIC, events_topic


class EventsOutNode(BridgeNode):
    def __init__(self) -> None:
        super().__init__("events_out", EVENTS_TOPIC)
        retention_ms = int(self.param("retention_ms", EVENTS_RETENTION_MS, "retention of a created topic"))
        capacity = int(self.param("queue_events", 100_000, "events kept locally while the broker is away"))
        delivery_timeout_s = float(
            self.param("delivery_timeout_s", 0.0, "give up on an event after (0: never)")
        )
        queue_depth = int(self.param("queue_depth", 100, "subscription history depth (reliable QoS)"))
        self.ensure_topics([events_topic(self.topic, self.partitions, self.replication_factor, retention_ms)])
        settings = {
            "enable.idempotence": True,
            "linger.ms": 20,
            "message.timeout.ms": round(delivery_timeout_s * 1000),
            **self.kafka_settings,
        }

        def make_producer(on_error: Callable[[KafkaError], None]) -> Producer:
            return Producer({**settings, "error_cb": on_error})

        self.outbox = Outbox(make_producer, self.topic, self.get_logger(), capacity, max_in_flight=10_000)
        self.unreadable = 0
        qos = QoSProfile(depth=queue_depth, reliability=ReliabilityPolicy.RELIABLE)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, qos)
        self.create_timer(0.05, self.outbox.pump)
        self.get_logger().info(f"sending events from {self.resolve_topic_name('faces_attributed')}")

    def _on_faces(self, msg: FacesMsg) -> None:
        try:
            frame_faces = frame_faces_from_msg(msg)
        except ImageConversionError as err:
            self.unreadable += 1
            self.get_logger().warning(
                f"faces message skipped ({self.unreadable} so far): {err}", throttle_duration_sec=5.0
            )
            return
        for face in frame_faces.faces:
            key, value = encode_event(FaceEvent.from_face(frame_faces.frame, face))
            self.outbox.put(key, value)

    def counters(self) -> dict[str, int]:
        return {**self.outbox.stats.as_dict(), "unreadable": self.unreadable}

    def close(self) -> None:
        self.outbox.flush(timeout_s=10.0)
        self.report_stats()


def main(args: list[str] | None = None) -> int:
    return run_bridge_node(EventsOutNode, "events_out", args)


if __name__ == "__main__":
    sys.exit(main())
