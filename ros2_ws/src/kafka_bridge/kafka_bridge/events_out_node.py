"""events_out (server side): each attributed face as a JSON event on the Kafka events topic.

Run: ``events_out --ros-args -r __ns:=/cam1 -p bootstrap_servers:=broker:9092``.
Subscribes to ``faces_attributed`` (``face_msgs/FaceArray``) and produces one record per face,
keyed by camera id, valued ``event_record.encode_event`` (``FaceEvent.as_dict`` + schema
version). Events are the product's output, so unlike frames they wait for the broker without a
delivery timeout (``delivery_timeout_s`` 0) in a large local queue; the producer is idempotent,
and the sink's natural key makes any replay harmless. Counters: ``/diagnostics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from confluent_kafka import KafkaError, Producer
from face_common.faces import FaceEvent
from face_common.graph_node import run_node
from face_common.ros_msgs import FacesMsg, frame_faces_from_msg
from rclpy.qos import QoSProfile, ReliabilityPolicy

from kafka_bridge.bridge_node import BridgeNode
from kafka_bridge.event_record import EventsOutSettings, encode_event
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import events_topic


class EventsOutNode(BridgeNode):
    settings_class = EventsOutSettings
    counters = ("received", "delivered", "queued", "in_flight", "producer_resets")
    problems = ("bad_messages", "dropped", "failed")
    settings: EventsOutSettings

    def __init__(self) -> None:
        super().__init__("events_out")
        s = self.settings
        self.ensure_topics([events_topic(s.topic, s.partitions, s.replication_factor, s.retention_ms)])
        producer_settings = {
            "enable.idempotence": True,
            "linger.ms": 20,
            "message.timeout.ms": round(s.delivery_timeout_s * 1000),
            **self.kafka_settings,
        }

        def make_producer(on_error: Callable[[KafkaError], None]) -> Producer:
            return Producer({**producer_settings, "error_cb": on_error})

        self.outbox = Outbox(make_producer, s.topic, self.get_logger(), s.queue_events, max_in_flight=10_000)
        qos = QoSProfile(depth=s.queue_depth, reliability=ReliabilityPolicy.RELIABLE)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, qos)
        self.create_timer(0.05, self.outbox.pump)
        self.get_logger().info(f"sending events from {self.resolve_topic_name('faces_attributed')}")

    def _on_faces(self, msg: FacesMsg) -> None:
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        for face in frame_faces.faces:
            key, value = encode_event(FaceEvent.from_face(frame_faces.frame, face))
            self.outbox.put(key, value)

    def client_counters(self) -> Mapping[str, int]:
        self.health.fault = "Kafka broker unreachable" if self.outbox.unreachable else None
        return self.outbox.stats.as_dict()

    def close(self) -> None:
        self.outbox.flush(timeout_s=10.0)
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(EventsOutNode, args)
