"""How one face event is laid out as a Kafka record (ROS-free; the events topic's contract).

The key is the camera id (one camera's events stay in order on one partition); the value is
the UTF-8 JSON of :meth:`FaceEvent.as_dict` plus ``schema_version``, so any consumer (the MySQL
sink, a dashboard, ``kcat``) reads it without this code. Readers refuse a version they do not
know instead of guessing at renamed fields, and values the event schema does not hold exactly
(``face_sink.schema.validate_event``): nothing is coerced (``"7"``, ``7.0``, ``true`` are not 7).

An erasure travels on the same topic as a tombstone: key ``face:<id>`` (decimal, ASCII), null
value, meaning "erase this face ID everywhere"; ``events_to_db`` applies it to the event store.

In aggregates-only mode (``events_out``'s ``payload: hourly_counts``) the topic carries no events,
only one record per camera and UTC hour: key ``counts:<camera>:<hour>`` (``2024-05-01T09:00:00Z``),
value the JSON of the hour's full counts with ``"kind": "hourly_counts"``; a later record of the
same key replaces the earlier one (compaction keeps the last). :func:`decode_record` reads both kinds.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from face_common.faces import Box, FaceEvent
from face_common.settings import setting
from face_sink.schema import (
    BIGINT_RANGE,
    HourCell,
    HourlyCounts,
    InvalidEvent,
    hourly_count_rows,
    validate_event,
)

from kafka_bridge.aggregates import HOUR_CELLS
from kafka_bridge.connection import KafkaSettings
from kafka_bridge.topics import EVENTS_RETENTION_MS, EVENTS_TOPIC

EVENT_SCHEMA_VERSION = 1
ERASURE_KEY_PREFIX = b"face:"
HOURLY_COUNTS_KIND = "hourly_counts"
HOURLY_COUNTS_KEY_PREFIX = b"counts:"
_CELL_FIELDS = sorted(f.name for f in fields(HourCell))
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


def hour_text(hour_ns: int) -> str:
    """An hour as ISO 8601 UTC, ``2024-05-01T09:00:00Z``: the key's and the value's readable hour."""
    return datetime.fromtimestamp(hour_ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_hourly_counts(counts: HourlyCounts) -> tuple[bytes, bytes]:
    """``(key, value)`` of the record holding one camera's hour: numbers only, no face ID."""
    hour = hour_text(counts.hour_ns)
    body = {
        "schema_version": EVENT_SCHEMA_VERSION,
        "kind": HOURLY_COUNTS_KIND,
        "camera_id": counts.camera_id,
        "hour": hour,
        "hour_ns": counts.hour_ns,
        "cells": [asdict(cell) for cell in counts.cells],
    }
    key = HOURLY_COUNTS_KEY_PREFIX + f"{counts.camera_id}:{hour}".encode()
    return key, json.dumps(body, separators=(",", ":")).encode()


def decode_record(value: bytes | None) -> FaceEvent | HourlyCounts:
    """The event or the hourly counts in a record value (told apart by ``kind``; events have none);
    :class:`EventRecordError` for anything else, :class:`InvalidEventRecord` for values the schema
    refuses."""
    body = _read_body(value)
    kind = body.get("kind")
    if kind == HOURLY_COUNTS_KIND:
        return _hourly_counts(body)
    if kind is not None:
        raise EventRecordError(f"record of unknown kind {reprlib.repr(kind)}")
    return _event(body)


def _hourly_counts(body: dict[str, Any]) -> HourlyCounts:
    try:
        cells = body["cells"]
        if not isinstance(cells, list) or not all(
            isinstance(c, dict) and sorted(c) == _CELL_FIELDS for c in cells
        ):
            raise InvalidEventRecord(f"hourly counts have malformed cells: {reprlib.repr(cells)}")
        counts = HourlyCounts(body["camera_id"], body["hour_ns"], tuple(HourCell(**c) for c in cells))
        hour = body["hour"]
    except KeyError as missing:
        raise EventRecordError(f"hourly-counts record lacks field {missing}") from None
    try:
        hourly_count_rows(counts)
    except InvalidEvent as bad:
        raise InvalidEventRecord(f"hourly counts have a malformed field: {bad}") from None
    if hour != hour_text(counts.hour_ns):
        raise InvalidEventRecord(f"hour {reprlib.repr(hour)} is not hour_ns {counts.hour_ns}")
    if unknown := sorted({(c.age_bucket, c.gender) for c in counts.cells} - set(HOUR_CELLS)):
        raise InvalidEventRecord(f"hourly counts have unknown age buckets or genders: {unknown}")
    return counts


def decode_event(value: bytes | None) -> FaceEvent:
    """The event in a record value; :class:`EventRecordError` for anything else
    (:class:`InvalidEventRecord` when it is JSON of the right shape with values the schema refuses)."""
    return _event(_read_body(value))


def _read_body(value: bytes | None) -> dict[str, Any]:
    """The JSON object of a record of this schema version."""
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
    return body


def _event(body: dict[str, Any]) -> FaceEvent:
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
