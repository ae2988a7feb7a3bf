"""How one face event is laid out as a Kafka record (ROS-free; the events topic's contract).

The key is the camera id (one camera's events stay in order on one partition); the value is
the UTF-8 JSON of :meth:`FaceEvent.as_dict` plus ``schema_version``, so any consumer (the MySQL
sink, a dashboard, ``kcat``) reads it without this code. Readers refuse a version they do not
know instead of guessing at renamed fields, and values the event schema does not hold exactly
(``face_sink.schema.validate_event``): nothing is coerced (``"7"``, ``7.0``, ``true`` are not 7).

An erasure travels on the same topic as a tombstone: key ``face:<id>`` (decimal, ASCII), null
value, meaning "erase this face ID everywhere"; ``events_to_db`` applies it to the event store.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import dataclass
from typing import Any

from face_common.faces import Box, FaceEvent
from face_common.settings import setting
from face_sink.schema import BIGINT_RANGE, InvalidEvent, validate_event

from kafka_bridge.connection import KafkaSettings
from kafka_bridge.topics import EVENTS_RETENTION_MS, EVENTS_TOPIC

EVENT_SCHEMA_VERSION = 1
ERASURE_KEY_PREFIX = b"face:"
_ERASURE_KEY = re.compile(re.escape(ERASURE_KEY_PREFIX) + rb"(0|[1-9][0-9]{0,18})")


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


class InvalidEventRecord(EventRecordError):
    """A readable event record whose values the event schema refuses (types, ranges)."""


def encode_event(event: FaceEvent) -> tuple[bytes, bytes]:
    """``(key, value)`` of the record for ``event``."""
    body = {"schema_version": EVENT_SCHEMA_VERSION, **event.as_dict()}
    return event.camera_id.encode(), json.dumps(body, separators=(",", ":")).encode()


def erasure_record(face_id: int) -> tuple[bytes, None]:
    """``(key, value)`` of the tombstone that erases ``face_id``: key ``face:<id>``, null value."""
    if not 0 <= face_id <= BIGINT_RANGE[1]:
        raise ValueError(f"face ID {face_id} cannot be erased: not a person's ID")
    return ERASURE_KEY_PREFIX + str(int(face_id)).encode(), None


def erased_face_id(key: bytes | None) -> int | None:
    """The face ID a tombstone's key names; None for a key that is not ``face:<id>``."""
    match = _ERASURE_KEY.fullmatch(key or b"")
    face_id = None if match is None else int(match[1])
    return face_id if face_id is not None and face_id <= BIGINT_RANGE[1] else None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # json.loads would read NaN/Infinity as floats


def _null_is_nan(value: Any) -> Any:
    return math.nan if value is None else value


def decode_event(value: bytes | None) -> FaceEvent:
    """The event in a record value; :class:`EventRecordError` for anything else
    (:class:`InvalidEventRecord` when it is JSON of the right shape with values the schema refuses)."""
    try:
        body = json.loads(value or b"", parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:  # also: bad UTF-8, numbers of over 4300 digits
        raise EventRecordError(f"event record is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise EventRecordError(f"event record is a JSON {type(body).__name__}, not an object")
    version = body.get("schema_version")
    if version != EVENT_SCHEMA_VERSION or isinstance(version, bool | float):
        raise EventRecordError(
            f"event schema version {reprlib.repr(version)}, this code reads {EVENT_SCHEMA_VERSION}"
        )
    try:
        box = body["box"]
        if not isinstance(box, list) or len(box) != 4:
            raise InvalidEventRecord(
                f"event record has a malformed field: box {reprlib.repr(box)} is not [x, y, w, h]"
            )
        # The values as JSON gave them: validate_event refuses a wrong type, nothing is converted.
        event = FaceEvent(
            camera_id=body["camera_id"],
            stamp_ns=body["stamp_ns"],
            face_index=body["face_index"],
            face_id=body["face_id"],
            age=_null_is_nan(body.get("age")),
            gender="" if body.get("gender") is None else body["gender"],
            box=Box(*box),
            distance=_null_is_nan(body.get("distance")),
            new_face=body["new_face"],
        )
    except KeyError as missing:
        raise EventRecordError(f"event record lacks field {missing}") from None
    try:
        validate_event(event)
    except InvalidEvent as bad:
        raise InvalidEventRecord(f"event record has a malformed field: {bad}") from None
    return event
