"""events_out (server side): each attributed face as a JSON event on the Kafka events topic, and
each erased face ID as a tombstone.

Run: ``events_out --ros-args -r __ns:=/cam1 -p bootstrap_servers:=broker:9092``.
Subscribes to ``faces_attributed`` (``face_msgs/FaceArray``) and produces one record per face,
keyed by camera id, valued ``event_record.encode_event`` (``FaceEvent.as_dict`` + schema
version); and to the global ``/erased_faces`` (``std_msgs/Int64``, the identity node's erasures)
and produces a tombstone (``event_record.erasure_record``: key ``face:<id>``, null value) so
consumers of the topic (``events_to_db``) erase the ID.
Events are the product's output, so they wait for the broker without a delivery timeout
(``delivery_timeout_s`` 0) in a durable outbox: a record is in the spool (``spool_path``, fsynced)
before it counts as received and leaves it when the broker acknowledged it, so a crash of this
node loses nothing it received; on start it sends what an earlier run left. The producer is
idempotent, and the sink's natural key makes any replay harmless. Counters: ``/diagnostics``
(ERROR while the broker is unreachable or the spool is full; in hourly_counts mode ``counted``
faces, and ``late`` frames of an hour already sent, not counted).

``payload:=hourly_counts`` is the aggregates-only mode: no event and no face ID leaves the server.
The node counts each camera's UTC hour (``aggregates``: sightings and distinct customers per age
bucket and gender, the open hour kept in ``<spool>.hours.sqlite`` so a restart continues it) and
sends one record per camera and hour (``event_record.encode_hourly_counts``) through the same
spool when a frame of a later hour closes it, and the open hour's counts so far at shutdown (the
full hour replaces them). An erased face ID is forgotten from the open hour; no tombstone is sent,
none of its IDs being on the topic.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaError, Producer
from face_common.erasure import ERASED_FACES_QOS, ERASED_FACES_TOPIC
from face_common.faces import FaceEvent
from face_common.graph_node import run_node
from face_common.ros_msgs import FacesMsg, frame_faces_from_msg
from face_common.settings import setting
from face_sink.schema import HourlyCounts, InvalidEvent
from face_sink.spool import DEFAULT_SPOOL_PATH, SpoolError, node_spool_path
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Int64

from kafka_bridge.aggregates import OpenHours
from kafka_bridge.bridge_node import BridgeNode
from kafka_bridge.event_record import (
    EventsOutSettings,
    encode_event,
    encode_hourly_counts,
    erasure_record,
)
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import events_topic

FLUSH_AT_EXIT_S = 10.0
HOURLY_COUNTS = "hourly_counts"


@dataclass(frozen=True)
class EventsOutNodeSettings(EventsOutSettings):
    spool_path: str = setting(
        DEFAULT_SPOOL_PATH,
        "SQLite file holding received events and erasures until the broker acknowledged them, kept "
        "across restarts; {node} becomes the node's namespace and name, {domain} its ROS domain id",
    )
    payload: str = setting(
        "events",
        "What leaves the server: events (one record per face, with its face ID) or hourly_counts "
        "(aggregates only: per camera and UTC hour, sightings and distinct customers per age bucket "
        "and gender; the open hour kept next to the spool, in <spool>.hours.sqlite)",
        choices=("events", HOURLY_COUNTS),
    )


class EventsOutNode(BridgeNode):
    settings_class = EventsOutNodeSettings
    counters = (
        "received",
        "replayed",
        "delivered",
        "retried",
        "queued",
        "in_flight",
        "producer_resets",
        "erasures",
        "counted",
    )
    problems = ("bad_messages", "dropped", "failed", "late")
    startup_errors = (*BridgeNode.startup_errors, SpoolError)
    settings: EventsOutNodeSettings

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

        spool_path = node_spool_path(
            s.spool_path, self.get_fully_qualified_name(), self.context.get_domain_id()
        )
        self.outbox = Outbox(
            make_producer,
            s.topic,
            self.get_logger(),
            s.queue_events,
            max_in_flight=10_000,
            spool_path=spool_path,
        )
        if replayed := self.outbox.stats.replayed:
            self.get_logger().info(f"sending {replayed} records an earlier run left in the spool")
        self.hours: OpenHours | None = None
        """Aggregates-only mode: each camera's open hour, on this server only."""
        if s.payload == HOURLY_COUNTS:
            self.hours = OpenHours(Path(spool_path).with_suffix(".hours.sqlite"))
            if open_hours := self.hours.counts():
                self.get_logger().info(
                    f"continuing the open hours of cameras {[c.camera_id for c in open_hours]} "
                    f"from {self.hours.path}"
                )
        qos = QoSProfile(depth=s.queue_depth, reliability=ReliabilityPolicy.RELIABLE)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, qos)
        self.create_subscription(Int64, ERASED_FACES_TOPIC, self._on_erased, ERASED_FACES_QOS)
        self.create_timer(0.05, self.outbox.pump)
        sent = "erasures" if self.hours is None else "hourly counts only, forgetting erased IDs"
        self.get_logger().info(
            f"sending {s.payload} from {self.resolve_topic_name('faces_attributed')} and {sent} from "
            f"{ERASED_FACES_TOPIC}, spool {self.outbox.spool.path}"
        )

    def _on_faces(self, msg: FacesMsg) -> None:
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        frame = frame_faces.frame
        events = [FaceEvent.from_face(frame, face) for face in frame_faces.faces]
        if self.hours is None:
            for event in events:
                self._send(*encode_event(event))
            return
        try:
            counted = self.hours.add(frame.camera_id, frame.stamp_ns, events, self._send_counts)
        except InvalidEvent as bad:
            self.report_problem("bad_messages", f"dropping a frame of {frame.camera_id}: {bad}")
            return
        except sqlite3.Error as err:  # the disk under the open hours is full or failing
            self.report_problem("dropped", f"faces not counted: {self.hours.path}: {err}", len(events), True)
            return
        if counted:
            self.health.count("counted", len(events))
        else:
            self.report_problem("late", f"frame of {frame.camera_id} from an hour already sent, not counted")

    def _send_counts(self, counts: HourlyCounts) -> None:
        self._send(*encode_hourly_counts(counts))

    def _on_erased(self, msg: Int64) -> None:
        tombstone = self.decoded(lambda m: erasure_record(m.data), msg)  # not a person's ID: refused
        if tombstone is None:
            return
        self.health.count("erasures")
        if self.hours is None:
            self._send(*tombstone)
        else:  # no face ID left this server: only the open hours hold it
            self.hours.erase(msg.data)

    def _send(self, key: bytes, value: bytes | None) -> None:
        if refused := self.outbox.put(key, value):
            self.get_logger().error(
                f"record refused: {refused} (dropped {self.outbox.stats.dropped})", throttle_duration_sec=5.0
            )

    def client_counters(self) -> Mapping[str, int]:
        faults = ["Kafka broker unreachable"] if self.outbox.unreachable else []
        if self.outbox.spool.full:
            faults.append(f"spool full ({self.outbox.spool.capacity} records), new records refused")
        self.health.fault = "; ".join(faults) or None
        return self.outbox.stats.as_dict()

    def close(self) -> None:
        """Send what is left while the broker answers; what it has not acknowledged stays spooled.
        The open hours' counts so far go too: a partial hour is better than none if the node is
        not started again, and the full hour replaces it if it is."""
        if self.hours is not None:
            for counts in self.hours.counts():
                self._send_counts(counts)
            self.hours.close()
        stats = self.outbox.flush(timeout_s=FLUSH_AT_EXIT_S)
        if left := stats.queued + stats.in_flight:
            self.get_logger().error(
                f"shutting down with {left} records not acknowledged, kept in the spool "
                f"{self.outbox.spool.path} for the next start"
            )
        super().close()
        self.outbox.close()


def main(args: list[str] | None = None) -> int:
    return run_node(EventsOutNode, args)
