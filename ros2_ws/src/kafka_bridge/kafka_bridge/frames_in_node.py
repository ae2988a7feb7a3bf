"""frames_in (server side): the Kafka frames topic back into ROS 2 as ``sensor_msgs/Image``.

Run: ``frames_in --ros-args -p bootstrap_servers:=broker:9092 -p max_frame_age_s:=2.0``.
Consumes as a member of consumer group ``group_id``: several servers with the same group share
the cameras by partition. Each frame is republished as ``bgr8`` with the camera's header
(``frame_id`` = camera id, ``stamp`` = capture time) on ``output_topic`` with ``{camera_id}``
filled in (default ``{camera_id}/image_raw``: each camera in its own namespace). Frames older
than ``max_frame_age_s`` are skipped and counted (0: keep all). Counters: ``/diagnostics``.

Flow control (on unless ``ack_topic`` is empty): a camera has at most ``max_in_flight`` frames in
its analysis chain; a frame leaves it when the chain's end publishes its message on ``ack_topic``
(the sink's ``faces_stored``: one per frame, with or without faces, once its events are spooled
on disk). Analytics
(``max_frame_age_s`` 0) takes records from Kafka only while every camera has room and its chain
is up (an image subscriber and an acknowledging publisher): the backlog waits in Kafka and the
consumer runs at the chain's pace. Live drops a frame its camera has no room for, counted by
reason (``too_old``, ``no_analysis``, ``window_full``). Images go out reliable and transient-local,
``max_in_flight`` deep: with never more than that unacknowledged, no queue up to the chain's end
overflows and a detector that matches late still gets them. Offsets are committed (every second, at a
rebalance, at exit) only below the first frame not acknowledged. A frame unacknowledged after
``ack_timeout_s`` (a stage failed on it) is counted (``unacknowledged``, a warning) and no longer
waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from face_common.graph_node import run_node
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_header, frame_ref
from rclpy.exceptions import InvalidTopicNameException
from rclpy.executors import SingleThreadedExecutor
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.subscription import Subscription
from sensor_msgs.msg import Image

from kafka_bridge.bridge_node import BridgeNode
from kafka_bridge.frame_intake import CommitTracker, FrameIntake, FramesInSettings, InFlight, Position
from kafka_bridge.frame_record import FrameRecordError
from kafka_bridge.topics import MAX_FRAME_BYTES, frames_topic

BATCH = 32
WAIT_S = 0.05
"""Longest wait for a record or an acknowledgement before the loop looks at the other."""
COMMIT_PERIOD_S = 1.0


@dataclass(frozen=True)
class CameraOutput:
    """Where a camera's frames go, and where their acknowledgements come from (None: no flow control)."""

    publisher: Publisher
    acks: Subscription | None

    def analysed(self) -> bool:
        """Whether the camera's chain is up: something takes its frames and acknowledges them."""
        return self.publisher.get_subscription_count() > 0 and (
            self.acks is None or self.acks.get_publisher_count() > 0
        )


class FramesInNode(BridgeNode):
    settings_class = FramesInSettings
    counters = (
        "received",
        "decoded",
        "published",
        "acknowledged",
        "in_flight",
        "too_old",
        "no_analysis",
        "window_full",
    )
    problems = ("bad", "unpublishable", "unacknowledged")
    settings: FramesInSettings

    def __init__(self) -> None:
        super().__init__("frames_in")
        s = self.settings
        self.intake = FrameIntake(s.max_frame_age_s)
        self.flow = bool(s.ack_topic)
        self.analytics = s.max_frame_age_s == 0
        self.in_flight = InFlight(s.max_in_flight, s.ack_timeout_s)
        self.commits = CommitTracker()
        self._commit_at = 0.0
        self.image_qos = (
            QoSProfile(
                depth=s.max_in_flight,
                reliability=ReliabilityPolicy.RELIABLE,
                durability=DurabilityPolicy.TRANSIENT_LOCAL,
            )
            if self.flow
            else qos_profile_sensor_data
        )
        self.ensure_topics([frames_topic(s.topic, s.partitions, s.replication_factor)])
        self.consumer = Consumer(
            {
                "group.id": s.group_id,
                # Never "latest": a fresh group would miss what is already there; stale frames
                # are max_frame_age_s's job.
                "auto.offset.reset": "earliest",
                # With flow control, only what the chain acknowledged is committed (_commit).
                "enable.auto.commit": not self.flow,
                "session.timeout.ms": s.session_timeout_ms,
                "max.partition.fetch.bytes": MAX_FRAME_BYTES,
                "error_cb": self._on_kafka_error,
                **self.kafka_settings,
            }
        )
        self.consumer.subscribe([s.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.outputs: dict[str, CameraOutput | None] = {}
        # Publishers made at start are matched before the first frame. One made on a camera's
        # first frame loses that camera's first frames to DDS discovery, unless flow control's
        # transient-local history keeps them for the detector that matches late.
        for camera_id in s.camera_ids:
            if camera_id:
                self._output_for(camera_id)
        flow = (
            f"at most {s.max_in_flight} frames a camera until acknowledged on {s.ack_topic}"
            if self.flow
            else "no flow control"
        )
        self.get_logger().info(
            f"group {s.group_id}: frames to {s.output_topic}, max frame age {s.max_frame_age_s:g} s "
            f"(0: all), {flow}"
        )

    def run(self, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        """Consume and republish until stopped, serving acknowledgements and timers between records."""
        while not stop.is_set():
            wanted = self._records_wanted()
            if wanted:
                for record in self.consumer.consume(wanted, timeout=WAIT_S):
                    self._on_record(record)
                executor.spin_once(timeout_sec=0.0)
            else:
                executor.spin_once(timeout_sec=WAIT_S)  # room comes with an acknowledgement
            if self.flow:
                self._settle(time.monotonic())

    def _records_wanted(self) -> int:
        """How many records to take now: in analytics no more than any camera has room for (all
        of them may be one camera's, maybe a new one), and none while a camera's chain is down
        (Kafka keeps them); otherwise a batch."""
        if not (self.flow and self.analytics):
            return BATCH
        wanted = self.in_flight.limit
        for camera_id, output in self.outputs.items():
            if output is None:
                continue
            if not output.analysed():
                self.get_logger().info(
                    f"camera {camera_id!r}: waiting for its analysis chain", throttle_duration_sec=10.0
                )
                return 0
            wanted = min(wanted, self.in_flight.room(camera_id))
        return wanted

    def _on_record(self, record: Message) -> None:
        if record.error() is not None:
            if record.error().code() != KafkaError._PARTITION_EOF:
                self.get_logger().warning(f"consumer: {record.error().str()}", throttle_duration_sec=5.0)
            return
        position = Position(record.topic(), record.partition(), record.offset())
        if self.flow:
            self.commits.consumed(position)
        if not self._publish(record, position) and self.flow:
            self.commits.done(position)

    def _publish(self, record: Message, position: Position) -> bool:
        """Publish the record's frame; False when it is not published (unreadable, dropped)."""
        try:
            meta = self.intake.admit(record.headers(), self.get_clock().now().nanoseconds)
            if meta is None:
                return False
            camera_id = meta.frame.camera_id
            output = self._output_for(camera_id)
            if output is None:
                self.health.count("unpublishable")
                return False
            if drop := self._drop_reason(camera_id, output):
                self.health.count(drop)
                return False
            image = self.intake.decode(meta, record.value())
        except FrameRecordError as err:
            self.get_logger().warning(
                f"record at {position.topic}[{position.partition}]@{position.offset} skipped "
                f"({self.intake.stats.bad} so far): {err}",
                throttle_duration_sec=5.0,
            )
            return False
        output.publisher.publish(array_to_image_msg(image, "bgr8", frame_header(meta.frame)))
        self.health.count("published")
        if self.flow:
            self.in_flight.sent(meta.frame, position, time.monotonic())
            self.health.set("in_flight", len(self.in_flight))
        return True

    def _drop_reason(self, camera_id: str, output: CameraOutput) -> str | None:
        """Why live drops a frame now (its camera's chain is down or full); analytics never does."""
        if not self.flow or self.analytics:
            return None
        if not output.analysed():
            return "no_analysis"
        if self.in_flight.room(camera_id) <= 0:
            return "window_full"
        return None

    def _on_ack(self, msg: FacesMsg) -> None:
        try:
            frame = frame_ref(msg.header)
        except ValueError as err:
            self.report_problem("bad", f"dropping an acknowledgement: {err}")
            return
        position = self.in_flight.acknowledged(frame)
        if position is None:
            return
        self.health.count("acknowledged")
        self.health.set("in_flight", len(self.in_flight))
        self.commits.done(position)

    def _settle(self, now_s: float) -> None:
        """Give up on frames unacknowledged for too long; commit what is done, once a period."""
        for position in self.in_flight.expired(now_s):
            self.report_problem(
                "unacknowledged",
                f"frame at {position.topic}[{position.partition}]@{position.offset} not acknowledged "
                f"in {self.settings.ack_timeout_s:g} s, no longer waited for",
            )
            self.commits.done(position)
            self.health.set("in_flight", len(self.in_flight))
        if now_s >= self._commit_at:
            self._commit_at = now_s + COMMIT_PERIOD_S
            self._commit(asynchronous=True)

    def _commit(self, asynchronous: bool) -> None:
        offsets = [TopicPartition(p.topic, p.partition, p.offset) for p in self.commits.to_commit()]
        if not offsets:
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=asynchronous)
        except KafkaException as err:
            self.get_logger().warning(f"offset commit failed (a later one covers it): {err}")

    def _output_for(self, camera_id: str) -> CameraOutput | None:
        """The camera's publisher and acknowledgements, made on its first frame (None: not a valid topic)."""
        if camera_id not in self.outputs:
            s = self.settings
            try:
                publisher = self.create_publisher(
                    Image, s.output_topic.replace("{camera_id}", camera_id), self.image_qos
                )
                acks = None
                if self.flow:
                    acks = self.create_subscription(
                        FacesMsg, s.ack_topic.replace("{camera_id}", camera_id), self._on_ack, FACES_QOS
                    )
                self.outputs[camera_id] = CameraOutput(publisher, acks)
                self.get_logger().info(f"camera {camera_id!r}: publishing on {publisher.topic_name}")
            except InvalidTopicNameException as err:
                self.outputs[camera_id] = None
                self.get_logger().error(f"camera {camera_id!r} cannot be published: {err}")
        return self.outputs[camera_id]

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.get_logger().info(f"assigned partitions {sorted(p.partition for p in partitions)}")

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commit what is done before another server takes the partitions; it commits them from now on."""
        if self.flow:
            self._commit(asynchronous=False)
            for p in partitions:
                self.commits.forget(p.topic, p.partition)

    def _on_kafka_error(self, err: KafkaError) -> None:
        self.get_logger().warning(f"Kafka: {err.str()}", throttle_duration_sec=5.0)

    def client_counters(self) -> Mapping[str, int]:
        return self.intake.stats.as_dict()

    def close(self) -> None:
        if self.flow:
            self._commit(asynchronous=False)
        self.consumer.close()  # leaves the group at once: its partitions go to the other servers
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(FramesInNode, args)
