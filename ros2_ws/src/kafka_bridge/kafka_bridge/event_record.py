"""How one face event is laid out as a Kafka record (ROS-free; the events topic's contract).

The key is the camera id (one camera's events stay in order on one partition); the value is
the UTF-8 JSON of :meth:`FaceEvent.as_dict` plus ``schema_version``, so any consumer (the MySQL
sink, a dashboard, ``kcat``) reads it without this code. Readers refuse a version they do not
know instead of guessing at renamed fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from face_common.faces import FaceEvent
from face_common.settings import setting

from kafka_bridge.connection import KafkaSettings
from kafka_bridge.topics import EVENTS_RETENTION_MS, EVENTS_TOPIC

EVENT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EventsOutSettings(KafkaSettings):
    """``events_out``: the events topic, and how events wait for the broker (never given up by default)."""

    topic: str = setting(EVENTS_TOPIC, "Kafka topic of the face events")
    retention_ms: int = setting(EVENTS_RETENTION_MS, "Retention of a topic this node creates (ms)", 1, 2**62)
    queue_events: int = setting(100_000, "Events kept locally while the broker is away", 1, 100_000_000)
    delivery_timeout_s: float = setting(0.0, "Give up on an event after this long (0: never)", 0.0, 86_400.0)
    queue_depth: int = setting(100, "Subscription history depth (reliable QoS)", 1, 100_000)


class EventRecordError(ValueError):
    """A Kafka record that is not a face event this code can read."""


def encode_event(event: FaceEvent) -> tuple[bytes, bytes]:
    """``(key, value)`` of the record for ``event``."""
    body = {"schema_version": EVENT_SCHEMA_VERSION, **event.as_dict()}
    return event.camera_id.encode(), json.dumps(body, separators=(",", ":")).encode()


def decode_event(value: bytes | None) -> FaceEvent:
    """The event in a record value; :class:`EventRecordError` for anything else."""
    try:
        body = json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EventRecordError(f"event record is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise EventRecordError(f"event record is a JSON {type(body).__name__}, not an object")
    version = body.get("schema_version")
    if version != EVENT_SCHEMA_VERSION:
        raise EventRecordError(f"event schema version {version!r}, this code reads {EVENT_SCHEMA_VERSION}")
    try:
        return FaceEvent.from_dict(body)
    except KeyError as missing:
        raise EventRecordError(f"event record lacks field {missing}") from None
    except (TypeError, ValueError) as bad:
        raise EventRecordError(f"event record has a malformed field: {bad}") from None
