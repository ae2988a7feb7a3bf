"""The bridge's Kafka topics and creating them when missing (ROS-free).

Frames are only useful for a short while and are large, so the frames topic keeps an hour and at
most 2 GB per partition (the seed system's settings); events are the product's output and are
kept longer (a week by default) for a sink that was down to catch up. Existing topics are left
as they are: changing a production topic's settings is an operator's decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

FRAMES_TOPIC = "frames"
EVENTS_TOPIC = "face_events"
FRAMES_RETENTION_MS = 3_600_000
FRAMES_RETENTION_BYTES = 2 * 1024**3
EVENTS_RETENTION_MS = 7 * 24 * 3_600_000
MAX_FRAME_BYTES = 16 * 1024**2
"""Largest frame record: a raw ``bgr8`` 1080p frame (6.2 MB) fits; Kafka's default is 1 MB."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int = -1
    """-1: the broker's ``default.replication.factor``."""
    config: Mapping[str, str] = field(default_factory=dict)


def frames_topic(
    name: str = FRAMES_TOPIC,
    partitions: int = 6,
    replication_factor: int = -1,
    retention_ms: int = FRAMES_RETENTION_MS,
    retention_bytes: int = FRAMES_RETENTION_BYTES,
) -> TopicSpec:
    config = {
        "retention.ms": str(retention_ms),
        "retention.bytes": str(retention_bytes),
        "max.message.bytes": str(MAX_FRAME_BYTES),
    }
    return TopicSpec(name, partitions, replication_factor, config)


def events_topic(
    name: str = EVENTS_TOPIC,
    partitions: int = 6,
    replication_factor: int = -1,
    retention_ms: int = EVENTS_RETENTION_MS,
) -> TopicSpec:
    return TopicSpec(name, partitions, replication_factor, {"retention.ms": str(retention_ms)})


def ensure_topics(
    settings: Mapping[str, str], specs: Sequence[TopicSpec], timeout_s: float = 10.0
) -> list[str]:
    """Create the topics of ``specs`` that do not exist yet; return the names created.

    Raises ``KafkaException`` when the broker cannot be reached or refuses a creation for any
    reason other than the topic already existing (another bridge may create it first).
    """
    admin = AdminClient(dict(settings))
    requests = [
        NewTopic(
            s.name,
            num_partitions=s.partitions,
            replication_factor=s.replication_factor,
            config=dict(s.config),
        )
        for s in specs
    ]
    created = []
    for name, future in admin.create_topics(requests, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created
